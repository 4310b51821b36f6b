// Plain JavaScript values to and from the contract's `value` and `column` variants.
//
// A plugin sees `null`, booleans, BIGINT as `bigint` (exact: 64 bits do not fit a
// `number`), FLOAT as `number`, strings, `Uint8Array` bytes, `Datetime`, and JSON
// arrays and objects as arrays and plain objects. It may answer any of those or a
// `Date`. A `number` result is a FLOAT, a `bigint` a BIGINT. Anything else is refused
// with its type named, so a wrong return is a clear row error.

const S64_MIN = -(2n ** 63n);
const S64_MAX = 2n ** 63n - 1n;

/** A SQL datetime: nanoseconds since the Unix epoch, UTC, as a `bigint`. */
export class Datetime {
  constructor(nanos) {
    this.nanos = BigInt(nanos);
  }

  /** A `Date` as a `Datetime`. */
  static of(date) {
    return new Datetime(BigInt(date.getTime()) * 1_000_000n);
  }

  /** The moment as a `Date` (sub-millisecond digits dropped). */
  toDate() {
    return new Date(Number(this.nanos / 1_000_000n));
  }
}

function typeName(x) {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'array';
  if (typeof x === 'object') return x.constructor?.name ?? 'object';
  return typeof x;
}

/** One `value` as a plain JavaScript value. */
export function toJs(v) {
  switch (v.tag) {
    case 'null':
      return null;
    case 'datetime':
      return new Datetime(v.val);
    case 'json':
      return JSON.parse(v.val);
    default:
      return v.val;
  }
}

/** JSON text of an array or object; bigints inside are written as numbers. */
function jsonText(x) {
  return JSON.stringify(x, (_, v) => {
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new TypeError(`${v} inside JSON does not fit a JSON number exactly`);
      }
      return Number(v);
    }
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new TypeError(`${v} is not a JSON number`);
    }
    return v;
  });
}

/** A plain JavaScript value as a `value`; a `TypeError` names what cannot be one. */
export function fromJs(x) {
  if (x === null || x === undefined) return { tag: 'null' };
  switch (typeof x) {
    case 'boolean':
      return { tag: 'boolean', val: x };
    case 'bigint':
      if (x < S64_MIN || x > S64_MAX) {
        throw new TypeError(`${x} does not fit a BIGINT (64-bit signed integer)`);
      }
      return { tag: 'int', val: x };
    case 'number':
      return { tag: 'float', val: x };
    case 'string':
      return { tag: 'str', val: x };
    default:
  }
  if (x instanceof Uint8Array) return { tag: 'bytes', val: x };
  if (x instanceof Datetime) return { tag: 'datetime', val: x.nanos };
  if (x instanceof Date) return { tag: 'datetime', val: Datetime.of(x).nanos };
  if (Array.isArray(x) || Object.getPrototypeOf(x) === Object.prototype) {
    try {
      return { tag: 'json', val: jsonText(x) };
    } catch (e) {
      throw new TypeError(`an ${typeName(x)} that is not JSON: ${e.message}`);
    }
  }
  throw new TypeError(
    `a ${typeName(x)} is not a SQL value (answer null, a boolean, a bigint, a number, ` +
      'a string, a Uint8Array, a Datetime, a Date, an array or a plain object)',
  );
}

/** A column of `rows` rows as an array of plain values, whatever form it came in. */
export function column(c, rows) {
  switch (c.tag) {
    case 'scalar':
      return new Array(rows).fill(toJs(c.val));
    case 'values':
      return c.val.map(toJs);
    default: {
      const { values, nulls } = c.val;
      const out = Array.from(values, (v) => (c.tag === 'datetimes' ? new Datetime(v) : v));
      if (nulls.length > 0) {
        for (let i = 0; i < out.length; i++) if (nulls[i]) out[i] = null;
      }
      return out;
    }
  }
}

/** The rows of an aggregate's group: the longest column that is not a literal. */
export function groupRows(columns) {
  let rows = 0;
  for (const c of columns) {
    if (c.tag === 'scalar') continue;
    rows = Math.max(rows, c.tag === 'values' ? c.val.length : c.val.values.length);
  }
  return rows;
}

/** A row (its fields) as a plain object. */
export function rowToObject(row) {
  const out = {};
  for (const f of row) out[f.name] = toJs(f.value);
  return out;
}

/** A plain object as a row. */
export function rowFromObject(row) {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    throw new TypeError(`a row is a plain object, not ${typeName(row)}`);
  }
  return Object.entries(row).map(([name, v]) => {
    try {
      return { name, value: fromJs(v) };
    } catch (e) {
      throw new TypeError(`field ${JSON.stringify(name)}: ${e.message}`);
    }
  });
}
