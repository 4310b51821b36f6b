"""Sources: `Source`, a stream's reader, pulled by the host.

`pull(max)` never blocks: it answers what is there (up to `max` messages), and
`Pulled(..., wait_ms=N)` says when to pull again. A class that defines `offset` and
`rewind` is rewindable (a rule under `qos` >= 1 resumes from its checkpoint); one
that defines `lookup(self, fields, keys)` can back a `KIND="lookup"` table: `keys` is a
`dict` of the key fields and the values wanted, the answer a list of row `dict`s
(`fields` names the fields the rule reads; answering more is fine).
"""

from dataclasses import dataclass, field

from componentize_py_types import Err

from . import props as _props
from .context import CONTEXT
from .functions import _message, _resource_module
from .values import row_from_dict, to_python


@dataclass
class Message:
    """One message: a row (`dict`) or raw bytes for the stream's FORMAT to decode,
    with metadata (`meta()` in SQL)."""

    payload: object
    meta: dict = field(default_factory=dict)


@dataclass
class Pulled:
    """What one pull found: messages (rows, bytes or `Message`s), whether the source
    has ended, and how long (ms) to wait before the next pull."""

    messages: list
    done: bool = False
    wait_ms: int = 0


class Source:
    """A source instance: one per stream a rule reads. `props` lists the props it
    knows with their defaults (unknown ones are refused)."""

    props: dict = {}
    #: How long the host waits before pulling again when a pull answers a plain,
    #: empty list.
    idle_wait_ms: int = 100

    def __init__(self, ctx, datasource: str, props: dict) -> None:
        self.ctx = ctx
        #: The stream's DATASOURCE.
        self.datasource = datasource
        self.props = props

    def open(self) -> None:
        """Connects; an exception fails the rule's start with its text."""

    def pull(self, max: int):
        """Up to `max` messages: a list, or a `Pulled`."""
        return Pulled([], done=True)

    def close(self) -> None:
        """Lets go of what `open` took."""


def _message_of(_wit, m):
    """A message of a pull as the contract's `message` (`_wit`: the source bindings)."""
    if not isinstance(m, Message):
        m = Message(m)
    if isinstance(m.payload, dict):
        payload = _wit.Payload_Fields(row_from_dict(m.payload))
    elif isinstance(m.payload, (bytes, bytearray, str)):
        raw = m.payload.encode() if isinstance(m.payload, str) else bytes(m.payload)
        payload = _wit.Payload_Bytes(raw)
    else:
        raise TypeError(f"a message is a dict, bytes or str, not {type(m.payload).__name__}")
    return _wit.Message(payload=payload, meta=row_from_dict(m.meta))


def _guard(call):
    try:
        return call()
    except Err:
        raise
    except Exception as e:
        raise Err(_message(e)) from None


def export_source(cls):
    """The plugin's source: answers the `Source` class of the app module and registers
    the per-stream resource."""
    # Here, not at the top: the bindings of a world hold only that world's exports.
    from wit_world import exports
    from wit_world.exports import source as _wit

    if not (isinstance(cls, type) and issubclass(cls, Source)):
        raise TypeError(f"export_source takes a Source class, not {cls!r}")
    rewindable = hasattr(cls, "offset") and hasattr(cls, "rewind")
    lookup = hasattr(cls, "lookup")
    who = cls.__name__

    class Exported(exports.Source):
        def describe(self):
            return _wit.SourceInfo(rewindable=rewindable, lookup=lookup)

    class Instance(_wit.Instance):
        def __init__(self, datasource: str, props: str) -> None:
            self.impl = None
            self.error = None
            try:
                self.impl = cls(CONTEXT, datasource, _props.read(who, props, cls.props))
            except Exception as e:
                # Reported by open: a constructor cannot answer an error.
                self.error = _message(e)

        def open(self) -> None:
            if self.error is not None:
                raise Err(self.error)
            _guard(self.impl.open)

        def pull(self, max: int):
            got = _guard(lambda: self.impl.pull(max))
            if not isinstance(got, Pulled):
                got = Pulled(list(got), wait_ms=0 if got else cls.idle_wait_ms)
            messages = _guard(lambda: [_message_of(_wit, m) for m in got.messages])
            return _wit.Pulled(messages=messages, done=got.done, wait_ms=max_wait(got.wait_ms))

        def close(self) -> None:
            if self.impl is not None:
                try:
                    self.impl.close()
                except Exception as e:
                    CONTEXT.warn(f"{who}: close: {_message(e)}")

        def offset(self):
            if not rewindable or self.impl is None:
                return None
            got = _guard(self.impl.offset)
            return None if got is None else str(got)

        def rewind(self, offset: str) -> None:
            if not rewindable:
                raise Err(f"{who} is not rewindable")
            _guard(lambda: self.impl.rewind(offset))

        def lookup(self, fields, keys, values):
            if not lookup:
                raise Err(f"{who} is not a lookup source")
            wanted = {k: to_python(v) for k, v in zip(keys, values)}
            rows = _guard(lambda: self.impl.lookup(list(fields), wanted))
            return _guard(lambda: [row_from_dict(r) for r in rows])

    _resource_module("source", Instance)
    return Exported


def max_wait(ms) -> int:
    """`wait_ms` clamped to what the contract carries (a u32 of milliseconds)."""
    return min(max(int(ms), 0), 2**32 - 1)

