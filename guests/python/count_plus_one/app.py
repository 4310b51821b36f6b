"""countPlusOne(...): the number of its arguments plus one, written in Python on the
SDK (the Rust example guests/examples/count-plus-one again)."""

import tributary_plugin as tp


class CountPlusOne(tp.Function):
    def exec(self, *args):
        return len(args) + 1


Function = tp.export_functions(CountPlusOne)
