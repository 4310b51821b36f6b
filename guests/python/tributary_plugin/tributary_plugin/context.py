"""What a plugin instance knows of where it runs, and its durable state.

Every plugin object gets one `Context` as `self.ctx`. The ids and paths are asked of
the host when read (they are the instance's own: its rule, operator and instance),
the state is the instance's state in the rule's store — kept across restarts and in
checkpoints — and `log` writes to the server's log tagged with the plugin, rule and
instance (`tributary plugin logs KIND NAME` reads it back).
"""

from componentize_py_types import Err
from wit_world.imports import context as _host
from wit_world.imports import state as _state

from .values import from_python, to_python

_LEVELS = {
    "trace": _host.Level.TRACE,
    "debug": _host.Level.DEBUG,
    "info": _host.Level.INFO,
    "warn": _host.Level.WARN,
    "error": _host.Level.ERROR,
}

_CONNECTIONS = {
    "connected": _host.Connection.CONNECTED,
    "connecting": _host.Connection.CONNECTING,
    "disconnected": _host.Connection.DISCONNECTED,
}


class StateError(Exception):
    """The state store refused: a counter that holds a non-integer, or a store fault."""


def _state_call(what: str, key: str, call):
    try:
        return call()
    except Err as e:
        if isinstance(e.value, _state.StateError_NotAnInteger):
            raise StateError(f"{what} {key!r}: the key holds a value that is not an integer") from None
        raise StateError(f"{what} {key!r}: {e.value.value}") from None


class Context:
    """The instance's context and state (eKuiper's `api.StreamContext`)."""

    @property
    def rule_id(self) -> str:
        return _host.rule_id()

    @property
    def operator_id(self) -> str:
        """`function:<site>`, `source` or `sink`."""
        return _host.operator_id()

    @property
    def instance_id(self) -> str:
        return _host.instance_id()

    @property
    def root_path(self) -> str:
        """The engine's root folder: relative paths in props are relative to it."""
        return _host.root_path()

    @property
    def plugin_path(self) -> str:
        """The plugin's own folder, `<root>/etc/<kind>/<name>`."""
        return _host.plugin_path()

    def log(self, message: str, level: str = "info") -> None:
        """One line in the server's log; `level` is trace, debug, info, warn or error."""
        try:
            lv = _LEVELS[level]
        except KeyError:
            raise ValueError(f"log level {level!r} is not one of {', '.join(_LEVELS)}") from None
        _host.log(lv, str(message))

    def debug(self, message: str) -> None:
        self.log(message, "debug")

    def info(self, message: str) -> None:
        self.log(message, "info")

    def warn(self, message: str) -> None:
        self.log(message, "warn")

    def error(self, message: str) -> None:
        self.log(message, "error")

    def set_connection(self, state: str, message: str = "") -> None:
        """A source's or sink's link to its system: connected, connecting or
        disconnected (the rule's `*_connection_status` metric)."""
        try:
            st = _CONNECTIONS[state]
        except KeyError:
            raise ValueError(f"connection {state!r} is not one of {', '.join(_CONNECTIONS)}") from None
        _host.set_connection(st, message)

    def put_state(self, key: str, value) -> None:
        """Keeps `value` (any plain value) under `key`."""
        v = from_python(value)
        _state_call("put_state", key, lambda: _state.put_state(key, v))

    def get_state(self, key: str, default=None):
        """The value under `key`, or `default` when there is none."""
        got = _state_call("get_state", key, lambda: _state.get_state(key))
        return default if got is None else to_python(got)

    def delete_state(self, key: str) -> None:
        _state_call("delete_state", key, lambda: _state.delete_state(key))

    def incr_counter(self, key: str, amount: int = 1) -> int:
        """Adds `amount` to the counter `key` (0 when new); answers the new total."""
        return _state_call("incr_counter", key, lambda: _state.incr_counter(key, amount))

    def get_counter(self, key: str) -> int:
        """The counter `key`, 0 when it was never increased."""
        return _state_call("get_counter", key, lambda: _state.get_counter(key))


#: The one context: what it answers depends on the instance the host is calling.
CONTEXT = Context()
