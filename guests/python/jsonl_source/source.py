"""The resource of the `source` interface: one instance per rule (and per lookup
table of a rule). componentize-py looks for it in a module named after the interface.
"""

import json
import os

from componentize_py_types import Err
from wit_world.exports import source
from wit_world.imports import context, types


def value(j):
    """A JSON value as a WIT value: integers stay integers."""
    if j is None:
        return types.Value_Null()
    if isinstance(j, bool):
        return types.Value_Boolean(j)
    if isinstance(j, int):
        return types.Value_Int(j)
    if isinstance(j, float):
        return types.Value_Float(j)
    if isinstance(j, str):
        return types.Value_Str(j)
    return types.Value_Json(json.dumps(j))


def fields(line: str):
    try:
        obj = json.loads(line)
    except ValueError as e:
        raise Err(f"jsonl: the line {line!r} is not JSON: {e}")
    if not isinstance(obj, dict):
        raise Err(f"jsonl: the line {line!r} is not a JSON object")
    return [types.Field(name=k, value=value(v)) for k, v in obj.items()]


def same(a, b) -> bool:
    """Key equality as SQL's `=`: numbers compare by value."""
    numbers = (types.Value_Int, types.Value_Float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return a.value == b.value
    return type(a) is type(b) and a.value == b.value


class Instance(source.Instance):
    def __init__(self, datasource: str, props: str) -> None:
        self.path = datasource if os.path.isabs(datasource) else os.path.join(context.root_path(), datasource)
        self.position = 0
        self.file = None
        self.error = None
        self.interval = 1000
        try:
            conf = json.loads(props)
        except ValueError as e:
            self.error = f"jsonl props: {e}"
            return
        for k, v in conf.items():
            if k != "interval":
                self.error = f"jsonl: unknown prop {k!r} (it knows interval)"
            elif not isinstance(v, int) or isinstance(v, bool) or v < 0:
                self.error = f"jsonl: interval must be milliseconds, not {v!r}"
            else:
                self.interval = v

    def open(self) -> None:
        if self.error:
            raise Err(self.error)
        context.set_connection(context.Connection.CONNECTING, "")

    def pull(self, max: int) -> source.Pulled:
        """The file is the source's connection: while it cannot be opened the source
        reports itself disconnected and tries again every interval."""
        if self.file is None:
            try:
                self.file = open(self.path, "rb")
                self.file.seek(self.position)
                context.set_connection(context.Connection.CONNECTED, "")
            except OSError as e:
                why = f"cannot open {self.path}: {e}"
                context.set_connection(context.Connection.DISCONNECTED, why)
                self.file = None
                if self.interval == 0:
                    raise Err(f"jsonl: {why}")
                return source.Pulled(messages=[], done=False, wait_ms=self.interval)
        messages = []
        while len(messages) < max:
            line = self.file.readline()
            # A line without its newline is still being written, unless the file is
            # read once: then it is the last line.
            if not line or (not line.endswith(b"\n") and self.interval > 0):
                self.file.seek(self.position)
                break
            self.position += len(line)
            text = line.decode("utf-8").strip()
            if text:
                messages.append(source.Message(payload=source.Payload_Fields(fields(text)), meta=[]))
        caught_up = len(messages) < max
        return source.Pulled(
            messages=messages,
            done=caught_up and self.interval == 0,
            wait_ms=self.interval if caught_up else 0,
        )

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def offset(self):
        return str(self.position)

    def rewind(self, offset: str) -> None:
        if not offset.isdigit():
            raise Err(f"jsonl: offset {offset!r} is not a byte position")
        self.position = int(offset)
        self.close()

    def lookup(self, wanted, keys, values):
        out = []
        try:
            with open(self.path, "r", encoding="utf-8") as f:
                lines = f.readlines()
        except OSError as e:
            raise Err(f"jsonl: cannot open {self.path}: {e}")
        for line in lines:
            if not line.strip():
                continue
            row = fields(line.strip())
            by_name = {f.name: f.value for f in row}
            if all(k in by_name and same(by_name[k], v) for k, v in zip(keys, values)):
                out.append([f for f in row if not wanted or f.name in wanted])
        return out
