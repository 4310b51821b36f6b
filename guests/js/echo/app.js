// echo(x): returns its argument, written in JavaScript on the SDK (the Rust example
// guests/examples/echo again).
import * as tp from '../tributary_plugin/index.js';

class Echo extends tp.Function {
  exec(x) {
    return x;
  }
}

const plugin = tp.exportFunctions(Echo);
export { plugin as function };
