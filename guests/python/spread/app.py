"""spread(x): an aggregate, the difference between the largest and the smallest number
of a group (nulls ignored; null for a group without numbers), written in Python on
the SDK (the Rust example guests/examples/spread again)."""

import tributary_plugin as tp


class Spread(tp.Aggregate):
    def exec(self, xs):
        numbers = [x for x in xs if x is not None]
        if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in numbers):
            raise tp.PluginError("spread needs numbers")
        if not numbers:
            return None
        if all(isinstance(x, int) for x in numbers):
            return max(numbers) - min(numbers)
        return float(max(numbers)) - float(min(numbers))


Function = tp.export_functions(Spread)
