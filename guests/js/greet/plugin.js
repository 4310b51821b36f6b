// `greet(name)`: 'hello, <name>' for each row (null for a null name); an argument
// that is not a string is that row's error. `fetchText(url)`: '<status> <body>' of a
// GET with the standard `fetch`, which componentize-js runs over wasi:http: the host
// refuses it unless the operator granted the URL's host and port in etc/wasm.yaml,
// and the refusal is that row's error. `throwIf(x)` returns x, and throws an uncaught
// Error when x is 3 (the host's handling of a guest that dies). Exports the WIT interface
// tributary:plugin/function (`function` is a reserved word in JavaScript, so the
// implementation is exported under that name with `export { … as function }`).

/** The value type of each typed column form. */
const TYPED = { ints: 'int', floats: 'float', bools: 'boolean', bytes: 'bytes', datetimes: 'datetime' };

/** The value of row `i` of an argument column. */
function cell(column, i) {
  switch (column.tag) {
    case 'scalar':
      return column.val;
    case 'values':
      return column.val[i];
    case 'strs':
      return column.val.nulls[i] ? { tag: 'null' } : { tag: 'str', val: column.val.values[i] };
    default:
      // Another typed column: only its type matters here.
      return { tag: TYPED[column.tag] ?? column.tag, val: undefined };
  }
}

class Instance {
  constructor(name) {
    this.name = name;
  }

  // `async`: componentize-js waits on the returned promise, so `await fetch` works.
  async exec(args, rows) {
    if (this.name === 'fetchText') {
      const out = [];
      for (let i = 0; i < rows; i++) {
        const v = cell(args[0], i);
        try {
          const r = await fetch(v.val);
          out.push({ tag: 'ok', val: { tag: 'str', val: `${r.status} ${await r.text()}` } });
        } catch (e) {
          out.push({ tag: 'err', val: `fetchText ${v.val}: ${e}` });
        }
      }
      return { tag: 'values', val: out };
    }
    if (this.name === 'throwIf') {
      // Not caught: the exception ends the call, and its text reaches the host.
      return { tag: 'values', val: Array.from({ length: rows }, (_, i) => {
        const c = args[0];
        const x = c.tag === 'ints' ? c.val.values[i] : cell(c, i).val;
        if (x === 3n) {
          throw new Error('throwIf saw 3');
        }
        return { tag: 'ok', val: x === undefined ? { tag: 'null' } : { tag: 'int', val: x } };
      }) };
    }
    const out = [];
    for (let i = 0; i < rows; i++) {
      const v = cell(args[0], i);
      if (v.tag === 'null') {
        out.push({ tag: 'ok', val: { tag: 'null' } });
      } else if (v.tag === 'str') {
        out.push({ tag: 'ok', val: { tag: 'str', val: `hello, ${v.val}` } });
      } else {
        out.push({ tag: 'err', val: `greet expects a string, got ${v.tag}` });
      }
    }
    return { tag: 'values', val: out };
  }

  execGroups(groups) {
    return { tag: 'values', val: groups.map(() => ({ tag: 'err', val: 'greet is not an aggregate' })) };
  }
}

const plugin = {
  describe() {
    return { functions: [
        { name: 'greet', kind: 'scalar' },
        { name: 'fetchText', kind: 'scalar' },
        { name: 'throwIf', kind: 'scalar' },
      ], singleton: false };
  },
  validate(name, args) {
    if (args.length !== 1) {
      throw `${name} expects 1 argument, got ${args.length}`;
    }
  },
  Instance,
};

export { plugin as function };
