"""accumulateWordCount(text, separator), written in Python on the SDK.

The same function as the Rust example: adds the number of words in `text` (split by
`separator`; an empty separator splits on white space) to the counter `allwordcount`
through the state API and returns the running total. Each call site of a rule has
its own instance, so its own counter. Built by componentize-py against the
`function-plugin` world of wit/.
"""

import tributary_plugin as tp


class AccumulateWordCount(tp.Function):
    @classmethod
    def validate(cls, args):
        for i, arg in enumerate(args):
            if arg is not tp.DYNAMIC and not isinstance(arg, str):
                raise tp.PluginError(f"parameter {i + 1} must be a string")

    def exec(self, text, sep):
        if text is None:
            return None
        if not isinstance(text, str):
            raise tp.PluginError("parameter 1 must be a string")
        if not isinstance(sep, str):
            raise tp.PluginError("parameter 2 must be a string")
        words = text.split() if sep == "" else [w for w in text.split(sep) if w]
        return self.ctx.incr_counter("allwordcount", len(words))


Function = tp.export_functions(AccumulateWordCount)
