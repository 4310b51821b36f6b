// The `tally` sink, written in JavaScript on the SDK (the Rust example
// guests/examples/tally-sink again): counts the rows it receives in the state counter
// `rows` and, per delivery, logs `<label>: +N rows (total T)`. Props: `{"label": "…"}`;
// any other prop is refused.
import * as tp from '../tributary_plugin/index.js';

class Tally extends tp.Sink {
  static props = { label: 'tally' };

  collect(rows) {
    const total = this.ctx.incrCounter('rows', rows.length);
    this.ctx.info(`${this.props.label}: +${rows.length} rows (total ${total})`);
  }
}

export const sink = tp.exportSink(Tally);
