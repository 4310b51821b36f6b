// Tributary plugins in JavaScript: SQL functions, sources and sinks as classes over
// plain values, built into WebAssembly components by componentize-js.
//
//   import * as tp from './tributary_plugin/index.js';
//
//   class AddOne extends tp.Function {
//     exec(x) {
//       return x + 1n;
//     }
//   }
//
//   const plugin = tp.exportFunctions(AddOne);
//   export { plugin as function };
//
// The app module exports what it is under the contract's interface name:
// `function` (as above: a reserved word), `source` (`export const source =
// tp.exportSource(...)`) or `sink`. Each plugin object has `this.ctx`, a `Context`:
// the rule and instance ids, logging, and the durable state.
//
// Guide: docs/plugins/javascript.md of the Tributary repository.

export { Context, StateError } from './context.js';
export { PluginError } from './errors.js';
export { Aggregate, DYNAMIC, Function, exportFunctions } from './functions.js';
export { Sink, exportSink } from './sinks.js';
export { Message, Pulled, Source, exportSource } from './sources.js';
export { Datetime } from './values.js';

export const VERSION = '0.2.0';
