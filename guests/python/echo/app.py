"""echo(x): returns its argument, written in Python on the SDK (the Rust example
guests/examples/echo again)."""

import tributary_plugin as tp


class Echo(tp.Function):
    def exec(self, x):
        return x


Function = tp.export_functions(Echo)
