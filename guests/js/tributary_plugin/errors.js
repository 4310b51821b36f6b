// Errors: `PluginError` for the user, and the text any thrown value becomes.

/** An error for the user: its message is the row's error (or the refusal), as is. */
export class PluginError extends Error {}

/** A thrown value's text: a `PluginError`'s own words, other errors with their name. */
export function message(e) {
  if (e instanceof PluginError) return e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** Runs `call`; anything it throws is thrown again as its text, the contract's error. */
export function guard(call) {
  try {
    return call();
  } catch (e) {
    throw message(e);
  }
}
