#!/usr/bin/env node
// Example "vms" driver for the bundled engine config: records each VM's power state in one JSON file
// (TASKOPS_EXAMPLE_VMS, default <repo>/.taskops/example-vms.json) instead of calling a hypervisor.
// A VM name is only ever a key in that file, never part of a path.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [state, name] = process.argv.slice(2);
if (!['on', 'off'].includes(state ?? '') || !name) {
  console.error('usage: vm-power.mjs on|off VM_NAME');
  process.exit(64);
}
const file =
  process.env.TASKOPS_EXAMPLE_VMS ??
  fileURLToPath(new URL('../../.taskops/example-vms.json', import.meta.url));
mkdirSync(path.dirname(file), { recursive: true });
let vms = {};
try {
  vms = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  // first run: no file yet
}
vms[name] = { power: state, at: new Date().toISOString() };
const tmp = `${file}.${process.pid}.tmp`;
writeFileSync(tmp, JSON.stringify(vms, null, 2) + '\n');
renameSync(tmp, file);
console.log(`${name}: powered ${state}`);
