#!/usr/bin/env node
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
// `--version` alone needs none of the CLI: answered before its modules (fastify, ajv, nodemailer…) load.
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else {
  // serve's heap flags before its modules load, whose allocations would grow the young generation for good.
  if (args.includes('serve')) (await import('../dist/cli/heap-flags.js')).tuneHeapForServe();
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv);
}
