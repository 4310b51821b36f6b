"""SQL functions: `Function` (one result per row) and `Aggregate` (one per group).

A plugin class says what it takes by the signature of its `exec`: `def exec(self, x)`
takes one argument, `def exec(self, x, sep=" ")` one or two, `def exec(self, *xs)`
any number. The host checks calls against it when a rule is created, so a wrong
count is refused then with the function named, not found row by row.

`export_functions(...)` makes the `Function` class componentize-py exports and the
resource the host instantiates per call site (the `function` module componentize-py
looks for).
"""

import inspect
import sys
import types as _pytypes

from componentize_py_types import Err, Ok
from wit_world.imports import types

from .context import CONTEXT
from .values import column, from_python, group_rows, to_python


class PluginError(Exception):
    """An error for the user: its text is the row's error (or the refusal), as is."""


#: What `validate` sees for an argument that is not a literal: a column or expression.
DYNAMIC = object()


class Function:
    """A scalar SQL function. Define `exec(self, *args)` (one row's plain values in,
    one value out; an exception is that row's error) or, to see a whole batch at once,
    `exec_batch(self, *columns)` (a list of the batch's values per argument in, a list
    of as many results out; an `Exception` in that list is its row's error)."""

    #: The SQL name; the class name with a lower-case first letter when not set.
    name: str = ""
    aggregate = False

    def __init__(self, ctx) -> None:
        #: The instance's `Context`: ids, logging, state.
        self.ctx = ctx

    @classmethod
    def validate(cls, args: list) -> None:
        """Checks a call when a rule is created: `args` holds each literal argument's
        value, `DYNAMIC` for the others. Raise `PluginError` naming the parameter."""

    def exec(self, *args):
        raise PluginError(f"{self.sql_name()} has no exec")

    @classmethod
    def sql_name(cls) -> str:
        return cls.name or cls.__name__[:1].lower() + cls.__name__[1:]


class Aggregate(Function):
    """An aggregate SQL function: `exec(self, *columns)` gets each argument as the list
    of the group's values and answers the group's value."""

    aggregate = True


def _arity(cls) -> tuple:
    """(least, most) arguments `exec` (or `exec_batch`) takes; `most` is None for
    `*args`."""
    method = getattr(cls, "exec_batch", cls.exec)
    params = list(inspect.signature(method).parameters.values())[1:]
    least, most = 0, 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return least, None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            most += 1
            if p.default is p.empty:
                least += 1
    return least, most


def _arguments(n: int) -> str:
    return f"{n} argument" if n == 1 else f"{n} arguments"


def _expects(least: int, most) -> str:
    if most is None:
        return f"at least {_arguments(least)}"
    if least == most:
        return _arguments(least)
    return f"{least} to {most} arguments"


def _message(e: BaseException) -> str:
    """A row's error text: a `PluginError`'s own words, others with their type."""
    if isinstance(e, PluginError):
        return str(e)
    return f"{type(e).__name__}: {e}"


def _result(x):
    if isinstance(x, BaseException):
        return Err(_message(x))
    try:
        return Ok(from_python(x))
    except TypeError as e:
        return Err(f"the result is {e}")


def export_functions(*classes, singleton: bool = False):
    """The plugin's functions: answers the `Function` class of the app module and
    registers the per-call-site resource. `singleton`: one instance for every call
    site and rule, instead of one per call site."""
    # Here, not at the top: the bindings of a world hold only that world's exports.
    from wit_world import exports
    from wit_world.exports import function as _wit

    by_name = {}
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, Function)):
            raise TypeError(f"export_functions takes Function or Aggregate classes, not {cls!r}")
        name = cls.sql_name()
        if name in by_name:
            raise TypeError(f"two functions are named {name!r}")
        by_name[name] = (cls, _arity(cls))
    defs = [
        _wit.FunctionDef(
            name=n,
            kind=_wit.FunctionKind.AGGREGATE if c.aggregate else _wit.FunctionKind.SCALAR,
        )
        for n, (c, _) in by_name.items()
    ]

    class Exported(exports.Function):
        def describe(self):
            return _wit.PluginInfo(functions=defs, singleton=singleton)

        def validate(self, name, args):
            if name not in by_name:
                raise Err(f"this plugin has no function {name}")
            cls, (least, most) = by_name[name]
            if len(args) < least or (most is not None and len(args) > most):
                raise Err(f"{name} expects {_expects(least, most)} but found {len(args)}")
            literals = [
                to_python(a.value) if isinstance(a, types.ArgInfo_Literal) else DYNAMIC for a in args
            ]
            try:
                cls.validate(literals)
            except Exception as e:
                raise Err(_message(e)) from None

    class Instance(_wit.Instance):
        def __init__(self, name: str) -> None:
            self.name = name
            self.impl = None
            self.error = None
            entry = by_name.get(name)
            if entry is None:
                self.error = f"this plugin has no function {name}"
                return
            try:
                self.impl = entry[0](CONTEXT)
            except Exception as e:
                # Reported on each call: a constructor cannot answer an error.
                self.error = f"{name}: {_message(e)}"

        def exec(self, args, rows: int):
            if self.error is not None:
                return types.Results_Values([Err(self.error)] * rows)
            if self.impl.aggregate:
                return types.Results_Values([Err(f"{self.name} is an aggregate function")] * rows)
            columns = [column(c, rows) for c in args]
            batch = getattr(self.impl, "exec_batch", None)
            if batch is None:
                return types.Results_Values([self._row(columns, i) for i in range(rows)])
            try:
                out = list(batch(*columns))
                if len(out) != rows:
                    raise PluginError(f"{self.name}: exec_batch answered {len(out)} results for {rows} rows")
            except Exception as e:
                return types.Results_Values([Err(_message(e))] * rows)
            return types.Results_Values([_result(x) for x in out])

        def _row(self, columns, i):
            try:
                return _result(self.impl.exec(*(c[i] for c in columns)))
            except Exception as e:  # the row's error; the other rows go on
                return Err(_message(e))

        def exec_groups(self, groups):
            if self.error is not None:
                return types.Results_Values([Err(self.error)] * len(groups))
            if not self.impl.aggregate:
                return types.Results_Values([Err(f"{self.name} is not an aggregate function")] * len(groups))
            out = []
            for g in groups:
                rows = group_rows(g)
                try:
                    out.append(_result(self.impl.exec(*(column(c, rows) for c in g))))
                except Exception as e:
                    out.append(Err(_message(e)))
            return types.Results_Values(out)

    _resource_module("function", Instance)
    return Exported


def _resource_module(interface: str, instance) -> None:
    """componentize-py takes an exported interface's resources from the module named
    after the interface: that module is made here, so a project needs no file for it."""
    module = _pytypes.ModuleType(interface, f"The {interface} resource of a Tributary plugin.")
    module.Instance = instance
    sys.modules[interface] = module
