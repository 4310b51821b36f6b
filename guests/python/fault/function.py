"""The resource of the `function` interface for pyFault (see app.py)."""

from componentize_py_types import Err, Ok
from wit_world.exports import function
from wit_world.imports import types


def check(x: int) -> int:
    if x == 3:
        raise ValueError("raiseIf saw 3")
    return x


class Instance(function.Instance):
    def __init__(self, name: str) -> None:
        self.name = name

    def exec(self, args, rows: int):
        column = args[0]
        out = []
        for i in range(rows):
            if isinstance(column, types.Column_Ints):
                x = column.value.values[i]
            elif isinstance(column, types.Column_Values) and isinstance(column.value[i], types.Value_Int):
                x = column.value[i].value
            else:
                out.append(Err("raiseIf expects an integer"))
                continue
            # Not caught: the exception ends the call.
            out.append(Ok(types.Value_Int(check(x))))
        return types.Results_Values(out)

    def exec_groups(self, groups):
        return types.Results_Values([Err(f"{self.name} is not an aggregate function") for _ in groups])
