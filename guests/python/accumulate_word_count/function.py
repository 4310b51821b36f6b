"""The resource of the `function` interface: one instance per rule and call site.

componentize-py looks for exported resources in a module named after their interface.
"""

from componentize_py_types import Err
from wit_world.exports import function
from wit_world.imports import state, types


def cell(column, i):
    """Row `i` of a column, whatever form it came in."""
    if isinstance(column, types.Column_Scalar):
        return column.value
    if isinstance(column, types.Column_Values):
        values = column.value
        return values[i] if i < len(values) else types.Value_Null()
    typed = column.value
    if typed.nulls and typed.nulls[i]:
        return types.Value_Null()
    if isinstance(column, types.Column_Strs):
        return types.Value_Str(typed.values[i])
    if isinstance(column, types.Column_Ints):
        return types.Value_Int(typed.values[i])
    if isinstance(column, types.Column_Floats):
        return types.Value_Float(typed.values[i])
    if isinstance(column, types.Column_Bools):
        return types.Value_Boolean(typed.values[i])
    if isinstance(column, types.Column_Bytes):
        return types.Value_Bytes(typed.values[i])
    return types.Value_Datetime(typed.values[i])


def words_of(text: str, sep: str) -> int:
    if sep == "":
        return len(text.split())
    return len([w for w in text.split(sep) if w])


class Instance(function.Instance):
    def __init__(self, name: str) -> None:
        self.name = name

    def exec(self, args, rows: int):
        """A typed column of strings (the common case) is read as one list; the
        running totals go back as one typed list of integers, with the rows that
        failed listed beside it."""
        totals = [0] * rows
        nulls = [False] * rows
        errors = []
        for i in range(rows):
            text = cell(args[0], i)
            sep = cell(args[1], i)
            if isinstance(text, types.Value_Null):
                nulls[i] = True
                continue
            if not isinstance(text, types.Value_Str):
                errors.append(types.RowError(row=i, message="parameter 1 must be a string"))
                continue
            if not isinstance(sep, types.Value_Str):
                errors.append(types.RowError(row=i, message="parameter 2 must be a string"))
                continue
            try:
                totals[i] = state.incr_counter("allwordcount", words_of(text.value, sep.value))
            except Err as e:
                errors.append(types.RowError(row=i, message=f"state: {e.value}"))
        column = types.Column_Ints(types.Ints(values=totals, nulls=nulls if any(nulls) else []))
        return types.Results_Typed(types.TypedResults(column=column, errors=errors))

    def exec_groups(self, groups):
        return types.Results_Values([Err(f"{self.name} is not an aggregate function") for _ in groups])
