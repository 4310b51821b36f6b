"""The `tally` sink, written in Python on the SDK (the Rust example
guests/examples/tally-sink again): counts the rows it receives in the state counter
`rows` and, per delivery, logs `<label>: +N rows (total T)`. Props: `{"label": "…"}`;
any other prop is refused."""

import tributary_plugin as tp


class Tally(tp.Sink):
    props = {"label": "tally"}

    def collect(self, rows):
        total = self.ctx.incr_counter("rows", len(rows))
        self.ctx.info(f"{self.props['label']}: +{len(rows)} rows (total {total})")


Sink = tp.export_sink(Tally)
