"""Sinks: `Sink`, a rule action's writer. `collect` gets each delivery's rows as
`dict`s; an exception fails the delivery (the host retries per the action's
`retryCount` and `retryInterval`)."""

from componentize_py_types import Err

from . import props as _props
from .context import CONTEXT
from .functions import _message, _resource_module
from .sources import _guard
from .values import row_to_dict


class Sink:
    """A sink instance: one per rule action. `props` lists the props it knows with
    their defaults (unknown ones are refused)."""

    props: dict = {}

    def __init__(self, ctx, props: dict) -> None:
        self.ctx = ctx
        self.props = props

    def open(self) -> None:
        """Connects; an exception fails the rule's start with its text."""

    def collect(self, rows: list) -> None:
        """One delivery: every row as a `dict` of plain values."""

    def close(self) -> None:
        """Flushes and lets go; an exception is logged."""


def export_sink(cls):
    """The plugin's sink: answers the `Sink` class of the app module and registers
    the per-action resource."""
    # Here, not at the top: the bindings of a world hold only that world's exports.
    from wit_world import exports
    from wit_world.exports import sink as _wit

    if not (isinstance(cls, type) and issubclass(cls, Sink)):
        raise TypeError(f"export_sink takes a Sink class, not {cls!r}")
    who = cls.__name__

    class Exported(exports.Sink):
        pass

    class Instance(_wit.Instance):
        def __init__(self, props: str) -> None:
            self.impl = None
            self.error = None
            try:
                self.impl = cls(CONTEXT, _props.read(who, props, cls.props))
            except Exception as e:
                # Reported by open: a constructor cannot answer an error.
                self.error = _message(e)

        def open(self) -> None:
            if self.error is not None:
                raise Err(self.error)
            _guard(self.impl.open)

        def collect(self, rows) -> None:
            _guard(lambda: self.impl.collect([row_to_dict(r) for r in rows]))

        def close(self) -> None:
            if self.impl is not None:
                _guard(self.impl.close)

    _resource_module("sink", Instance)
    return Exported
