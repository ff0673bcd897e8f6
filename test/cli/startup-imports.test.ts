import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What a command loads decides how fast it starts: `--help` and `validate` must not pay for the server, the
 * stores, the drivers or git. Each case spawns bin/taskops.js (it runs dist/: `npx tsc` first) with a loader
 * hook that logs every module the process resolves, ESM imports and CommonJS requires alike.
 */
const BIN = path.resolve('bin/taskops.js');
const REGISTER = path.resolve('test/cli/load-log/register.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'taskops-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The server, the stores, the drivers' clients, git, and (for a valid set) Ajv's compiler. */
const HEAVY = [
  'fastify',
  '@fastify/helmet',
  'nodemailer',
  'pg',
  'prom-client',
  'better-sqlite3',
  'pino',
  'axios',
  'simple-git',
  'chokidar',
  'node-schedule',
  'ajv',
];

let runs = 0;
/** The modules `node ARGS` loads: resolved URLs and require() requests, one a line. */
function loadedBy(args: string[]): string[] {
  const log = path.join(dir, `load-${++runs}.log`);
  const res = spawnSync(process.execPath, ['--import', REGISTER, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TASKOPS_LOAD_LOG: log, NO_COLOR: '1' },
  });
  expect(res.status, res.stderr).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

/** Whether a logged line is package `name` (or a file inside it). */
const isPackage = (line: string, name: string) =>
  line.includes(`/node_modules/${name}/`) ||
  line === `require:${name}` ||
  line.startsWith(`require:${name}/`);

/** The two small helpers ajv's standalone code (the generated schema checks) calls; not its compiler. */
const isAjvRuntime = (line: string) => line.includes('ajv/dist/runtime/');

const heavyIn = (lines: string[]) =>
  HEAVY.filter((name) => lines.some((l) => isPackage(l, name) && !isAjvRuntime(l)));

describe('what a CLI start loads', () => {
  it('the log sees ESM imports and the requires inside CommonJS packages (the check can fail)', () => {
    const lines = loadedBy(['--input-type=module', '-e', "import 'fastify';"]);
    expect(heavyIn(lines)).toEqual(['fastify']);
    // fastify is CommonJS: its own dependencies come through require().
    expect(lines).toContain('require:@fastify/error');
  });

  for (const args of [['--help'], ['help'], ['--version'], ['validate', '--help'], ['serve', '--help']]) {
    it(`taskops ${args.join(' ')} loads commander and none of the heavy packages`, () => {
      const lines = loadedBy([BIN, ...args]);
      expect(heavyIn(lines)).toEqual([]);
      expect(lines.some((l) => isPackage(l, 'yaml'))).toBe(false);
      if (args[0] !== '--version') expect(lines.some((l) => isPackage(l, 'commander'))).toBe(true);
    });
  }

  it('taskops validate examples reads YAML and loads none of them (no Ajv compile for a valid set)', () => {
    const lines = loadedBy([BIN, 'validate', 'examples']);
    expect(lines.some((l) => isPackage(l, 'yaml'))).toBe(true);
    expect(heavyIn(lines)).toEqual([]);
  });

  it('taskops validate of an invalid manifest loads Ajv to explain it, and still no server or store', () => {
    const log = path.join(dir, `load-${++runs}.log`);
    const res = spawnSync(
      process.execPath,
      ['--import', REGISTER, BIN, 'validate', 'test/fixtures/invalid/08-wrong-type.yaml'],
      { encoding: 'utf8', env: { ...process.env, TASKOPS_LOAD_LOG: log, NO_COLOR: '1' } },
    );
    expect(res.status).toBe(1);
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(heavyIn(lines)).toEqual(['ajv']);
  });
});
