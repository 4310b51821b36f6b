// countPlusOne(...): the number of its arguments plus one, written in JavaScript on
// the SDK (the Rust example guests/examples/count-plus-one again).
import * as tp from '../tributary_plugin/index.js';

class CountPlusOne extends tp.Function {
  // Any number of arguments: a rest parameter has no count of its own.
  static args = [0, Infinity];

  exec(...args) {
    return BigInt(args.length + 1);
  }
}

const plugin = tp.exportFunctions(CountPlusOne);
export { plugin as function };
