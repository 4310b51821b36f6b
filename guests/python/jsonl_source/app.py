"""The `jsonl` source, written in Python on the SDK: the lines of a JSON-lines file as
a stream (rewindable: its offset is the byte position after the last line handed
over) or as a lookup table (the lines whose fields equal the keys asked for).

The same plugin as the Rust example guests/examples/jsonl-source: DATASOURCE is the
file, absolute or relative to the engine root; props `{"interval": 1000}`, how often
(ms) to look for appended lines, 0 to read the file once and end. While the file
cannot be opened the source reports itself disconnected and tries again.
"""

import json
import os

import tributary_plugin as tp


def row_of(line: str) -> dict:
    try:
        obj = json.loads(line)
    except ValueError as e:
        raise tp.PluginError(f"jsonl: the line {line!r} is not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise tp.PluginError(f"jsonl: the line {line!r} is not a JSON object")
    return obj


def same(a, b) -> bool:
    """Key equality as SQL's `=`: numbers compare by value, booleans only to booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


class Jsonl(tp.Source):
    props = {"interval": 1000}

    def __init__(self, ctx, datasource, props):
        super().__init__(ctx, datasource, props)
        self.interval = props["interval"]
        if self.interval < 0:
            raise tp.PluginError(f"jsonl: interval must be milliseconds, not {self.interval}")
        self.path = datasource if os.path.isabs(datasource) else os.path.join(ctx.root_path, datasource)
        self.position = 0
        self.file = None

    def open(self):
        self.ctx.set_connection("connecting")

    def pull(self, max):
        """The file is the source's connection: while it cannot be opened the source
        reports itself disconnected and tries again every interval."""
        if self.file is None:
            try:
                self.file = open(self.path, "rb")
                self.file.seek(self.position)
                self.ctx.set_connection("connected")
            except OSError as e:
                why = f"cannot open {self.path}: {e}"
                self.ctx.set_connection("disconnected", why)
                self.file = None
                if self.interval == 0:
                    raise tp.PluginError(f"jsonl: {why}") from None
                return tp.Pulled([], wait_ms=self.interval)
        rows = []
        while len(rows) < max:
            line = self.file.readline()
            # A line without its newline is still being written, unless the file is
            # read once: then it is the last line.
            if not line or (not line.endswith(b"\n") and self.interval > 0):
                self.file.seek(self.position)
                break
            self.position += len(line)
            text = line.decode("utf-8").strip()
            if text:
                rows.append(row_of(text))
        caught_up = len(rows) < max
        return tp.Pulled(rows, done=caught_up and self.interval == 0, wait_ms=self.interval if caught_up else 0)

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None

    def offset(self):
        return str(self.position)

    def rewind(self, offset):
        if not offset.isdigit():
            raise tp.PluginError(f"jsonl: offset {offset!r} is not a byte position")
        self.position = int(offset)
        self.close()

    def lookup(self, fields, keys):
        try:
            with open(self.path, "r", encoding="utf-8") as f:
                lines = f.readlines()
        except OSError as e:
            raise tp.PluginError(f"jsonl: cannot open {self.path}: {e}") from None
        out = []
        for line in lines:
            if not line.strip():
                continue
            row = row_of(line.strip())
            if all(k in row and same(row[k], v) for k, v in keys.items()):
                out.append({k: v for k, v in row.items() if not fields or k in fields})
        return out


Source = tp.export_source(Jsonl)
