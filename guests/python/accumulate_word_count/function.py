"""The resource of the `function` interface: one instance per rule and call site.

componentize-py looks for exported resources in a module named after their interface.
"""

from componentize_py_types import Err, Ok
from wit_world.exports import function
from wit_world.imports import state, types


def cell(column, i):
    if isinstance(column, types.Column_Scalar):
        return column.value
    values = column.value
    return values[i] if i < len(values) else types.Value_Null()


class Instance(function.Instance):
    def __init__(self, name: str) -> None:
        self.name = name

    def exec(self, args, rows: int):
        out = []
        for i in range(rows):
            text = cell(args[0], i)
            sep = cell(args[1], i)
            if isinstance(text, types.Value_Null):
                out.append(Ok(types.Value_Null()))
                continue
            if not isinstance(text, types.Value_Str):
                out.append(Err("parameter 1 must be a string"))
                continue
            if not isinstance(sep, types.Value_Str):
                out.append(Err("parameter 2 must be a string"))
                continue
            if sep.value == "":
                words = len(text.value.split())
            else:
                words = len([w for w in text.value.split(sep.value) if w])
            try:
                total = state.incr_counter("allwordcount", words)
            except Err as e:
                out.append(Err(f"state: {e.value}"))
                continue
            out.append(Ok(types.Value_Int(total)))
        return out

    def exec_groups(self, groups):
        return [Err(f"{self.name} is not an aggregate function") for _ in groups]
