// Sinks: `Sink`, a rule action's writer. `collect` gets each delivery's rows as plain
// objects; a thrown error fails the delivery (the host retries per the action's
// `retryCount` and `retryInterval`).

import { CONTEXT } from './context.js';
import { guard, message } from './errors.js';
import { read } from './props.js';
import { rowToObject } from './values.js';

/** A sink instance: one per rule action. `static props` lists the props it knows with
 * their defaults (unknown ones are refused). */
export class Sink {
  static props = {};

  constructor(ctx, props) {
    this.ctx = ctx;
    this.props = props;
  }

  /** Connects; a thrown error fails the rule's start with its text. */
  open() {}

  /** One delivery: every row as a plain object. */
  collect(_rows) {}

  /** Flushes and lets go. */
  close() {}
}

/** The plugin's sink: the object the app module exports as `sink`. */
export function exportSink(cls) {
  if (!(cls.prototype instanceof Sink)) throw new TypeError(`exportSink takes a Sink class, not ${cls}`);
  const who = cls.name;

  class Instance {
    constructor(props) {
      this.impl = null;
      this.error = null;
      try {
        this.impl = new cls(CONTEXT, read(who, props, cls.props));
      } catch (e) {
        // Reported by open: a constructor cannot answer an error.
        this.error = message(e);
      }
    }

    open() {
      if (this.error !== null) throw this.error;
      guard(() => this.impl.open());
    }

    collect(rows) {
      guard(() => this.impl.collect(rows.map(rowToObject)));
    }

    close() {
      if (this.impl !== null) guard(() => this.impl.close());
    }
  }

  return { Instance };
}
