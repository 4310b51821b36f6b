// Props of sources and sinks, checked against the defaults a plugin class declares.
//
// A class lists every prop it knows with its default (`static props = {interval:
// 1000}`); a prop it does not list is refused, and so is a value of another type than
// its default's, so no prop is silently ignored. Integers in props arrive as numbers.

import { PluginError } from './errors.js';

function kind(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return { boolean: 'a boolean', number: 'a number', string: 'a string', object: 'an object' }[typeof v] ?? typeof v;
}

/** The props JSON object `text` over `defaults`; a `PluginError` names the first
 * prop that is unknown or of the wrong type. */
export function read(who, text, defaults) {
  let given;
  try {
    given = text.trim() ? JSON.parse(text) : {};
  } catch (e) {
    throw new PluginError(`${who}: props are not JSON: ${e.message}`);
  }
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new PluginError(`${who}: props must be an object, not ${kind(given)}`);
  }
  const out = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (!Object.hasOwn(defaults, k)) {
      const known = Object.keys(defaults).sort().join(', ') || 'none';
      throw new PluginError(`${who}: unknown prop ${JSON.stringify(k)} (it knows ${known})`);
    }
    const d = defaults[k];
    if (d !== null && v !== null && kind(d) !== kind(v)) {
      throw new PluginError(`${who}: prop ${JSON.stringify(k)} must be ${kind(d)}, not ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  return out;
}
