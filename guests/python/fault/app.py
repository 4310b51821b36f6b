"""pyFault: `raiseIf(x)` raises an uncaught ValueError when x is 3, written in Python.

The Python counterpart of the Rust `faulty` example, for the host's handling of a
guest that dies: componentize-py prints the traceback to stderr and traps, and the
host puts the traceback's last lines into the row's error and its log.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.function import FunctionDef, FunctionKind, PluginInfo


class Function(exports.Function):
    def describe(self) -> PluginInfo:
        return PluginInfo(
            functions=[FunctionDef(name="raiseIf", kind=FunctionKind.SCALAR)],
            singleton=False,
        )

    def validate(self, name: str, args: list) -> None:
        if len(args) != 1:
            raise Err(f"{name} expects 1 argument but found {len(args)}")
