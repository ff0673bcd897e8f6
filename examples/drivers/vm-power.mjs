#!/usr/bin/env node
// Example "vms" driver for the bundled engine config: records each power change as one appended JSON line
// (TASKOPS_EXAMPLE_VMS, default <repo>/.taskops/example-vms.jsonl) instead of calling a hypervisor.
// Appends are atomic, so the members of a tag can be powered in parallel; a VM name is only ever data, never a path.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [state, name] = process.argv.slice(2);
if (!['on', 'off'].includes(state ?? '') || !name) {
  console.error('usage: vm-power.mjs on|off VM_NAME');
  process.exit(64);
}
const file =
  process.env.TASKOPS_EXAMPLE_VMS ??
  fileURLToPath(new URL('../../.taskops/example-vms.jsonl', import.meta.url));
mkdirSync(path.dirname(file), { recursive: true });
appendFileSync(file, JSON.stringify({ vm: name, power: state, at: new Date().toISOString() }) + '\n');
console.log(`${name}: powered ${state}`);
