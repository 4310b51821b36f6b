"""Props of sources and sinks: checked against the defaults a plugin class declares.

A class lists every prop it knows with its default (`props = {"interval": 1000}`);
a prop it does not list is refused, and so is a value of another type than its
default's (an int where a float is expected is taken), so no prop is silently
ignored. The merged props are `self.props`.
"""

import json

from .functions import PluginError


def _type_name(v) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def read(who: str, text: str, defaults: dict) -> dict:
    """The props JSON object `text`, merged over `defaults`; `PluginError` names the
    first prop that is unknown or of the wrong type."""
    try:
        given = json.loads(text) if text.strip() else {}
    except ValueError as e:
        raise PluginError(f"{who}: props are not JSON: {e}") from None
    if not isinstance(given, dict):
        raise PluginError(f"{who}: props must be an object, not {_type_name(given)}")
    out = dict(defaults)
    for k, v in given.items():
        if k not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise PluginError(f"{who}: unknown prop {k!r} (it knows {known})")
        d = defaults[k]
        fits = (
            d is None
            or v is None
            or (isinstance(d, float) and isinstance(v, (int, float)) and not isinstance(v, bool))
            or type(v) is type(d)
        )
        if not fits:
            raise PluginError(f"{who}: prop {k!r} must be {_type_name(d)}, not {json.dumps(v)}")
        out[k] = v
    return out
