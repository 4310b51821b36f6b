"""accumulateWordCount(text, separator), written in Python.

The same function as the Rust example: adds the number of words in `text` (split by
`separator`) to the counter `allwordcount` through the state API and returns the
running total. Built into a component with componentize-py against the
`function-plugin` world of wit/.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.function import FunctionDef, FunctionKind, PluginInfo
from wit_world.imports import types


class Function(exports.Function):
    def describe(self) -> PluginInfo:
        return PluginInfo(
            functions=[FunctionDef(name="accumulateWordCount", kind=FunctionKind.SCALAR)],
            singleton=False,
        )

    def validate(self, name: str, args: list) -> None:
        if len(args) != 2:
            raise Err(f"{name} expects 2 arguments but found {len(args)}")
        for i, arg in enumerate(args):
            if isinstance(arg, types.ArgInfo_Literal) and not isinstance(arg.value, types.Value_Str):
                raise Err(f"parameter {i + 1} must be a string")
