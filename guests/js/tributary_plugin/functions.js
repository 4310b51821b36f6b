// SQL functions: `Function` (one result per row) and `Aggregate` (one per group).
//
// A plugin class says how many arguments it takes with `static args = [least, most]`
// (`most` may be `Infinity`); without it, `exec`'s parameter count (`exec(x)` takes
// one). The host checks calls against it when a rule is created, so a wrong count is
// refused then with the function named, not found row by row.
//
// `exportFunctions(...)` answers the object the app module exports as the contract's
// `function` interface: `export { plugin as function }` (`function` is a reserved
// word, so it cannot be a `const`).

import { CONTEXT } from './context.js';
import { PluginError, message } from './errors.js';
import { column, fromJs, groupRows, toJs } from './values.js';

/** What `validate` sees for an argument that is not a literal. */
export const DYNAMIC = Symbol('dynamic');

/** A scalar SQL function. Define `exec(...args)` (one row's plain values in, one value
 * out; a thrown error is that row's error) or, to see a whole batch at once,
 * `execBatch(...columns)` (an array of the batch's values per argument in, an array
 * of as many results out; an `Error` in it is its row's error). */
export class Function {
  /** The SQL name; the class name with a lower-case first letter when not set. */
  static sqlName = '';

  constructor(ctx) {
    /** The instance's `Context`: ids, logging, state. */
    this.ctx = ctx;
  }

  /** Checks a call when a rule is created: `args` holds each literal argument's
   * value, `DYNAMIC` for the others. Throw a `PluginError` naming the parameter. */
  static validate(_args) {}

  static nameOf() {
    return this.sqlName || this.name.charAt(0).toLowerCase() + this.name.slice(1);
  }

  static get aggregate() {
    return false;
  }
}

/** An aggregate SQL function: `exec(...columns)` gets each argument as the array of
 * the group's values and answers the group's value. */
export class Aggregate extends Function {
  static get aggregate() {
    return true;
  }
}

function arity(cls) {
  if (cls.args !== undefined) return cls.args;
  const method = cls.prototype.execBatch ?? cls.prototype.exec;
  return [method.length, method.length];
}

function argumentsText(n) {
  return n === 1 ? '1 argument' : `${n} arguments`;
}

function expects([least, most]) {
  if (most === Infinity) return `at least ${argumentsText(least)}`;
  if (least === most) return argumentsText(least);
  return `${least} to ${most} arguments`;
}

function result(x) {
  if (x instanceof Error) return { tag: 'err', val: message(x) };
  try {
    return { tag: 'ok', val: fromJs(x) };
  } catch (e) {
    return { tag: 'err', val: `the result is ${e.message}` };
  }
}

function failed(n, text) {
  return { tag: 'values', val: Array.from({ length: n }, () => ({ tag: 'err', val: text })) };
}

/** The plugin's functions. `singleton`: one instance for every call site and rule,
 * instead of one per call site. */
export function exportFunctions(...classes) {
  let singleton = false;
  if (classes.length > 0 && !(classes.at(-1).prototype instanceof Function)) {
    ({ singleton = false } = classes.pop());
  }
  const byName = new Map();
  for (const cls of classes) {
    if (!(cls.prototype instanceof Function)) {
      throw new TypeError(`exportFunctions takes Function or Aggregate classes, not ${cls}`);
    }
    const name = cls.nameOf();
    if (byName.has(name)) throw new TypeError(`two functions are named ${name}`);
    byName.set(name, { cls, arity: arity(cls) });
  }

  class Instance {
    constructor(name) {
      this.name = name;
      this.impl = null;
      this.error = null;
      const entry = byName.get(name);
      if (entry === undefined) {
        this.error = `this plugin has no function ${name}`;
        return;
      }
      try {
        this.impl = new entry.cls(CONTEXT);
      } catch (e) {
        // Reported on each call: a constructor cannot answer an error.
        this.error = `${name}: ${message(e)}`;
      }
    }

    exec(args, rows) {
      if (this.error !== null) return failed(rows, this.error);
      if (this.impl.constructor.aggregate) return failed(rows, `${this.name} is an aggregate function`);
      const columns = args.map((c) => column(c, rows));
      if (typeof this.impl.execBatch === 'function') {
        let out;
        try {
          out = Array.from(this.impl.execBatch(...columns));
          if (out.length !== rows) {
            throw new PluginError(`${this.name}: execBatch answered ${out.length} results for ${rows} rows`);
          }
        } catch (e) {
          return failed(rows, message(e));
        }
        return { tag: 'values', val: out.map(result) };
      }
      const out = [];
      for (let i = 0; i < rows; i++) {
        try {
          out.push(result(this.impl.exec(...columns.map((c) => c[i]))));
        } catch (e) {
          // The row's error; the other rows go on.
          out.push({ tag: 'err', val: message(e) });
        }
      }
      return { tag: 'values', val: out };
    }

    execGroups(groups) {
      if (this.error !== null) return failed(groups.length, this.error);
      if (!this.impl.constructor.aggregate) {
        return failed(groups.length, `${this.name} is not an aggregate function`);
      }
      return {
        tag: 'values',
        val: groups.map((g) => {
          const rows = groupRows(g);
          try {
            return result(this.impl.exec(...g.map((c) => column(c, rows))));
          } catch (e) {
            return { tag: 'err', val: message(e) };
          }
        }),
      };
    }
  }

  return {
    describe() {
      return {
        functions: [...byName].map(([name, { cls }]) => ({
          name,
          kind: cls.aggregate ? 'aggregate' : 'scalar',
        })),
        singleton,
      };
    },

    validate(name, args) {
      const entry = byName.get(name);
      if (entry === undefined) throw `this plugin has no function ${name}`;
      const [least, most] = entry.arity;
      if (args.length < least || args.length > most) {
        throw `${name} expects ${expects(entry.arity)} but found ${args.length}`;
      }
      const literals = args.map((a) => (a.tag === 'literal' ? toJs(a.val) : DYNAMIC));
      try {
        entry.cls.validate(literals);
      } catch (e) {
        throw message(e);
      }
    },

    Instance,
  };
}
