// Sources: `Source`, a stream's reader, pulled by the host.
//
// `pull(max)` never blocks: it answers what is there (up to `max` messages), and
// `new Pulled(messages, {waitMs})` says when to pull again. A class that defines
// `offset` and `rewind` is rewindable (a rule under `qos` >= 1 resumes from its
// checkpoint); one that defines `lookup(fields, keys)` can back a `KIND="lookup"`
// table: `keys` is an object of the key fields and the values wanted, the answer an
// array of row objects.

import { CONTEXT } from './context.js';
import { guard, message } from './errors.js';
import { read } from './props.js';
import { rowFromObject, toJs } from './values.js';

/** One message: a row (a plain object) or raw bytes (a `Uint8Array` or a string) for
 * the stream's FORMAT to decode, with metadata (`meta()` in SQL). */
export class Message {
  constructor(payload, meta = {}) {
    this.payload = payload;
    this.meta = meta;
  }
}

/** What one pull found: messages (rows, bytes or `Message`s), whether the source has
 * ended, and how long (ms) to wait before the next pull. */
export class Pulled {
  constructor(messages, { done = false, waitMs = 0 } = {}) {
    this.messages = messages;
    this.done = done;
    this.waitMs = waitMs;
  }
}

/** A source instance: one per stream a rule reads. `static props` lists the props it
 * knows with their defaults (unknown ones are refused). */
export class Source {
  static props = {};
  /** How long the host waits before pulling again after a plain, empty array. */
  static idleWaitMs = 100;

  constructor(ctx, datasource, props) {
    this.ctx = ctx;
    /** The stream's DATASOURCE. */
    this.datasource = datasource;
    this.props = props;
  }

  /** Connects; a thrown error fails the rule's start with its text. */
  open() {}

  /** Up to `max` messages: an array, or a `Pulled`. */
  pull(_max) {
    return new Pulled([], { done: true });
  }

  /** Lets go of what `open` took. */
  close() {}
}

const encoder = new TextEncoder();

function messageOf(m) {
  const msg = m instanceof Message ? m : new Message(m);
  let payload;
  if (msg.payload instanceof Uint8Array) {
    payload = { tag: 'bytes', val: msg.payload };
  } else if (typeof msg.payload === 'string') {
    payload = { tag: 'bytes', val: encoder.encode(msg.payload) };
  } else if (msg.payload !== null && typeof msg.payload === 'object' && !Array.isArray(msg.payload)) {
    payload = { tag: 'fields', val: rowFromObject(msg.payload) };
  } else {
    throw new TypeError(`a message is an object, a Uint8Array or a string, not ${JSON.stringify(msg.payload)}`);
  }
  return { payload, meta: rowFromObject(msg.meta) };
}

/** `waitMs` clamped to what the contract carries (a u32 of milliseconds). */
function clampWait(ms) {
  return Math.min(Math.max(Math.trunc(Number(ms)) || 0, 0), 2 ** 32 - 1);
}

/** The plugin's source: the object the app module exports as `source`. */
export function exportSource(cls) {
  if (!(cls.prototype instanceof Source)) throw new TypeError(`exportSource takes a Source class, not ${cls}`);
  const rewindable = typeof cls.prototype.offset === 'function' && typeof cls.prototype.rewind === 'function';
  const lookup = typeof cls.prototype.lookup === 'function';
  const who = cls.name;

  class Instance {
    constructor(datasource, props) {
      this.impl = null;
      this.error = null;
      try {
        this.impl = new cls(CONTEXT, datasource, read(who, props, cls.props));
      } catch (e) {
        // Reported by open: a constructor cannot answer an error.
        this.error = message(e);
      }
    }

    open() {
      if (this.error !== null) throw this.error;
      guard(() => this.impl.open());
    }

    pull(max) {
      return guard(() => {
        let got = this.impl.pull(max);
        if (!(got instanceof Pulled)) {
          const messages = Array.from(got);
          got = new Pulled(messages, { waitMs: messages.length > 0 ? 0 : cls.idleWaitMs });
        }
        return { messages: got.messages.map(messageOf), done: Boolean(got.done), waitMs: clampWait(got.waitMs) };
      });
    }

    close() {
      if (this.impl === null) return;
      try {
        this.impl.close();
      } catch (e) {
        CONTEXT.warn(`${who}: close: ${message(e)}`);
      }
    }

    offset() {
      if (!rewindable || this.impl === null) return undefined;
      const got = guard(() => this.impl.offset());
      return got === null || got === undefined ? undefined : String(got);
    }

    rewind(offset) {
      if (!rewindable) throw `${who} is not rewindable`;
      guard(() => this.impl.rewind(offset));
    }

    lookup(fields, keys, values) {
      if (!lookup) throw `${who} is not a lookup source`;
      const wanted = {};
      keys.forEach((k, i) => {
        wanted[k] = toJs(values[i]);
      });
      return guard(() => Array.from(this.impl.lookup([...fields], wanted), rowFromObject));
    }
  }

  return {
    describe() {
      return { rewindable, lookup };
    },
    Instance,
  };
}
