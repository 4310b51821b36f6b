"""Plain Python values to and from the contract's `value` and `column` variants.

A plugin sees `None`, `bool`, `int`, `float`, `str`, `bytes`, `Datetime`, and JSON
arrays and objects as `list` and `dict`; it may answer any of those, a `tuple` (an
array) or a `datetime.datetime`. Anything else is refused with its type named, so a
wrong return is a clear row error rather than a value the engine misreads.
"""

import datetime as _dt
import json as _json
from dataclasses import dataclass

from wit_world.imports import types

_S64_MIN = -(2**63)
_S64_MAX = 2**63 - 1
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


@dataclass(frozen=True)
class Datetime:
    """A SQL datetime: nanoseconds since the Unix epoch, UTC (the contract's own
    precision; `datetime.datetime` holds only microseconds)."""

    nanos: int

    @staticmethod
    def of(moment: _dt.datetime) -> "Datetime":
        """A `datetime.datetime` (naive ones are taken as UTC) as a `Datetime`."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.timezone.utc)
        delta = moment - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return Datetime(micros * 1000)

    def datetime(self) -> _dt.datetime:
        """The moment as an aware `datetime.datetime` (sub-microsecond digits dropped)."""
        return _EPOCH + _dt.timedelta(microseconds=self.nanos // 1000)


def to_python(v):
    """One `value` as a plain Python value."""
    if isinstance(v, types.Value_Null):
        return None
    if isinstance(v, types.Value_Datetime):
        return Datetime(v.value)
    if isinstance(v, types.Value_Json):
        return _json.loads(v.value)
    return v.value


def from_python(x):
    """A plain Python value as a `value`; `TypeError` names what cannot be one."""
    if x is None:
        return types.Value_Null()
    if isinstance(x, bool):
        return types.Value_Boolean(x)
    if isinstance(x, int):
        if not _S64_MIN <= x <= _S64_MAX:
            raise TypeError(f"{x} does not fit a BIGINT (64-bit signed integer)")
        return types.Value_Int(x)
    if isinstance(x, float):
        return types.Value_Float(x)
    if isinstance(x, str):
        return types.Value_Str(x)
    if isinstance(x, (bytes, bytearray, memoryview)):
        return types.Value_Bytes(bytes(x))
    if isinstance(x, Datetime):
        return types.Value_Datetime(x.nanos)
    if isinstance(x, _dt.datetime):
        return types.Value_Datetime(Datetime.of(x).nanos)
    if isinstance(x, (dict, list, tuple)):
        try:
            text = _json.dumps(x, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise TypeError(f"a {type(x).__name__} that is not JSON: {e}") from e
        return types.Value_Json(text)
    raise TypeError(
        f"a {type(x).__name__} is not a SQL value (answer None, bool, int, float, str, "
        "bytes, Datetime, datetime, list or dict)"
    )


def column(c, rows: int) -> list:
    """A column of `rows` rows as a list of plain values, whatever form it came in."""
    if isinstance(c, types.Column_Scalar):
        return [to_python(c.value)] * rows
    if isinstance(c, types.Column_Values):
        return [to_python(v) for v in c.value]
    typed = c.value
    values = list(typed.values)
    if isinstance(c, types.Column_Datetimes):
        values = [Datetime(n) for n in values]
    if typed.nulls:
        values = [None if null else v for v, null in zip(values, typed.nulls)]
    return values


def group_rows(columns) -> int:
    """The rows of an aggregate's group: the longest column that is not a literal."""
    rows = 0
    for c in columns:
        if isinstance(c, types.Column_Scalar):
            continue
        rows = max(rows, len(c.value) if isinstance(c, types.Column_Values) else len(c.value.values))
    return rows


def row_to_dict(row) -> dict:
    """A row (its fields) as a `dict` of plain values."""
    return {f.name: to_python(f.value) for f in row}


def row_from_dict(row) -> list:
    """A `dict` as a row; its keys must be strings."""
    fields = []
    for k, v in row.items():
        if not isinstance(k, str):
            raise TypeError(f"a row's field names are strings, not {type(k).__name__} {k!r}")
        try:
            fields.append(types.Field(name=k, value=from_python(v)))
        except TypeError as e:
            raise TypeError(f"field {k!r}: {e}") from e
    return fields
