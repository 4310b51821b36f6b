// Builds a plugin component from an app module with componentize-js:
//   node build.mjs APP.js WORLD OUT.wasm [WIT]
// WORLD is function-plugin, source-plugin or sink-plugin; WIT the contract's folder
// (default: ../wit beside this SDK, where `tributary plugin new` puts it). With
// componentize-js's default features, so `fetch` works for the hosts an operator
// grants (the host links wasi:http).
import { componentize } from '@bytecodealliance/componentize-js';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [app, world, out, wit] = process.argv.slice(2);
if (!app || !world || !out) {
  console.error('usage: node build.mjs APP.js WORLD OUT.wasm [WIT]');
  process.exit(2);
}
// Node's own parse first: componentize-js reports a syntax error without its place.
const check = spawnSync(process.execPath, ['--check', resolve(app)], { stdio: 'inherit' });
if (check.status !== 0) process.exit(1);
const witPath = wit ? resolve(wit) : fileURLToPath(new URL('../wit', import.meta.url));
const { component } = await componentize({ sourcePath: resolve(app), witPath, worldName: world });
await writeFile(out, component);
