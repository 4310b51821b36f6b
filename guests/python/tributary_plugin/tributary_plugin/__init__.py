"""Tributary plugins in Python: SQL functions, sources and sinks as classes over plain
Python values, built into WebAssembly components by componentize-py.

```python
import tributary_plugin as tp

class AddOne(tp.Function):
    def exec(self, x):
        return x + 1

Function = tp.export_functions(AddOne)
```

The app module componentize-py builds (`app.py`) names what it exports after the
contract's interfaces: `Function = export_functions(...)`, `Source =
export_source(...)` or `Sink = export_sink(...)`. Each plugin object has `self.ctx`,
a `Context`: the rule and instance ids, `log`, and the durable state (`put_state`,
`get_state`, `delete_state`, `incr_counter`, `get_counter`).

Guide: docs/plugins/python.md of the Tributary repository.
"""

from .context import Context, StateError
from .functions import DYNAMIC, Aggregate, Function, PluginError, export_functions
from .sinks import Sink, export_sink
from .sources import Message, Pulled, Source, export_source
from .values import Datetime

__version__ = "0.2.0"

__all__ = [
    "Aggregate",
    "Context",
    "DYNAMIC",
    "Datetime",
    "Function",
    "Message",
    "PluginError",
    "Pulled",
    "Sink",
    "Source",
    "StateError",
    "export_functions",
    "export_sink",
    "export_source",
]
