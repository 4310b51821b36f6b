// Builds greet.wasm from plugin.js against the repository's WIT (world
// function-plugin), with componentize-js's default settings: the component imports
// wasi:http (for fetch) whether or not the plugin uses it.
// Usage: node build.mjs OUTPUT.wasm
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const out = process.argv[2] ?? here('greet.wasm');
const { component } = await componentize({
  sourcePath: here('plugin.js'),
  witPath: here('../../../wit'),
  worldName: 'function-plugin',
});
await writeFile(out, component);
