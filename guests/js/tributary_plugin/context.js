// What a plugin instance knows of where it runs, and its durable state.
//
// Every plugin object gets the one `Context` as `this.ctx`. The ids and paths are
// asked of the host when read (they are the instance's own: its rule, operator and
// instance), the state is the instance's state in the rule's store (kept across
// restarts and in checkpoints), and `log` writes to the server's log tagged with the
// plugin, rule and instance (`tributary plugin logs KIND NAME` reads it back).

import * as host from 'tributary:plugin/context@0.2.0';
import * as state from 'tributary:plugin/state@0.2.0';
import { fromJs, toJs } from './values.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];
const CONNECTIONS = ['connected', 'connecting', 'disconnected'];

/** The state store refused: a counter that holds a non-integer, or a store fault. */
export class StateError extends Error {}

function stateCall(what, key, call) {
  try {
    return call();
  } catch (e) {
    const why = e?.payload ?? e;
    if (why?.tag === 'not-an-integer') {
      throw new StateError(`${what} ${JSON.stringify(key)}: the key holds a value that is not an integer`);
    }
    throw new StateError(`${what} ${JSON.stringify(key)}: ${why?.val ?? why}`);
  }
}

/** The instance's context and state (eKuiper's `api.StreamContext`). */
export class Context {
  get ruleId() {
    return host.ruleId();
  }

  get operatorId() {
    return host.operatorId();
  }

  get instanceId() {
    return host.instanceId();
  }

  /** The engine's root folder, as the plugin sees it. */
  get rootPath() {
    return host.rootPath();
  }

  /** The plugin's own folder, as the plugin sees it. */
  get pluginPath() {
    return host.pluginPath();
  }

  /** A line in the server's log at `level` (trace, debug, info, warn, error). */
  log(text, level = 'info') {
    if (!LEVELS.includes(level)) {
      throw new RangeError(`log level ${JSON.stringify(level)} is not one of ${LEVELS.join(', ')}`);
    }
    host.log(level, String(text));
  }

  debug(text) {
    this.log(text, 'debug');
  }

  info(text) {
    this.log(text, 'info');
  }

  warn(text) {
    this.log(text, 'warn');
  }

  error(text) {
    this.log(text, 'error');
  }

  /** The source's or sink's connection status, shown in the rule's status and /metrics. */
  setConnection(status, why = '') {
    if (!CONNECTIONS.includes(status)) {
      throw new RangeError(`connection ${JSON.stringify(status)} is not one of ${CONNECTIONS.join(', ')}`);
    }
    host.setConnection(status, String(why));
  }

  /** Keeps `value` (any plain value) under `key`. */
  putState(key, value) {
    const v = fromJs(value);
    stateCall('putState', key, () => state.putState(key, v));
  }

  /** The value under `key`, or `fallback` when there is none. */
  getState(key, fallback = null) {
    const got = stateCall('getState', key, () => state.getState(key));
    return got === undefined || got === null ? fallback : toJs(got);
  }

  deleteState(key) {
    stateCall('deleteState', key, () => state.deleteState(key));
  }

  /** Adds `amount` (a bigint or an integer number) to the counter `key`; the new total. */
  incrCounter(key, amount = 1n) {
    return stateCall('incrCounter', key, () => state.incrCounter(key, BigInt(amount)));
  }

  /** The counter `key`, 0n when it was never increased. */
  getCounter(key) {
    return stateCall('getCounter', key, () => state.getCounter(key));
  }
}

/** The one context: the host answers each call for the instance that is running. */
export const CONTEXT = new Context();
