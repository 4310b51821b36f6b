// spread(x): an aggregate, the difference between the largest and the smallest number
// of a group (nulls ignored; null for a group without numbers), written in JavaScript
// on the SDK (the Rust example guests/examples/spread again).
import * as tp from '../tributary_plugin/index.js';

class Spread extends tp.Aggregate {
  exec(xs) {
    const numbers = xs.filter((x) => x !== null);
    if (numbers.some((x) => typeof x !== 'bigint' && typeof x !== 'number')) {
      throw new tp.PluginError('spread needs numbers');
    }
    if (numbers.length === 0) return null;
    if (numbers.every((x) => typeof x === 'bigint')) {
      let lo = numbers[0];
      let hi = numbers[0];
      for (const x of numbers) {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      return hi - lo;
    }
    const floats = numbers.map(Number);
    return Math.max(...floats) - Math.min(...floats);
  }
}

const plugin = tp.exportFunctions(Spread);
export { plugin as function };
