// accumulateWordCount(text, separator), written in JavaScript on the SDK.
//
// The same function as the Rust example: adds the number of words in `text` (split by
// `separator`; an empty separator splits on white space) to the counter `allwordcount`
// through the state API and returns the running total. Each call site of a rule has
// its own instance, so its own counter.
import * as tp from '../tributary_plugin/index.js';

class AccumulateWordCount extends tp.Function {
  static validate(args) {
    args.forEach((arg, i) => {
      if (arg !== tp.DYNAMIC && typeof arg !== 'string') {
        throw new tp.PluginError(`parameter ${i + 1} must be a string`);
      }
    });
  }

  exec(text, sep) {
    if (text === null) return null;
    if (typeof text !== 'string') throw new tp.PluginError('parameter 1 must be a string');
    if (typeof sep !== 'string') throw new tp.PluginError('parameter 2 must be a string');
    const words = sep === '' ? text.split(/\s+/).filter((w) => w) : text.split(sep).filter((w) => w);
    return this.ctx.incrCounter('allwordcount', words.length);
  }
}

const plugin = tp.exportFunctions(AccumulateWordCount);
export { plugin as function };
