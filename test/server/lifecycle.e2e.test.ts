import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_DIR_LOCK_FILE, openStore } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { doc, docs } from '../helpers/engine.js';
import { tempDir } from '../helpers/git.js';
import { freePort, startServe, type ServeProcess } from '../helpers/serve-process.js';

let work: ReturnType<typeof tempDir>;
let server: ServeProcess | undefined;
let dataDir: string;
let manifests: string;
let configFile: string;
let records: string;

beforeEach(() => {
  work = tempDir('taskops-lifecycle-');
  dataDir = path.join(work.dir, 'data');
  manifests = path.join(work.dir, 'manifests');
  records = path.join(work.dir, 'records.txt');
  configFile = path.join(work.dir, 'taskops.config.yaml');
  mkdirSync(manifests);
  writeFileSync(
    configFile,
    [
      'drivers:',
      '  jobs:',
      '    type: command',
      '    actions:',
      `      record: [node, -e, "require('fs').appendFileSync(process.argv[1], process.argv[2] + '\\\\n')", ${JSON.stringify(records)}, "\${TASK}"]`,
    ].join('\n') + '\n',
  );
  writeFileSync(
    path.join(manifests, 'm.yaml'),
    docs(
      doc('Task', 'mark', { objectType: 'jobs', target: { name: 'obj' }, action: 'record' }),
      doc('EventTrigger', 'go', { event: { type: 'jobs', name: 'go' }, tasks: ['mark'] }),
    ),
  );
});
afterEach(async () => {
  await server?.kill('SIGKILL');
  server = undefined;
  work.cleanup();
});

const globalArgs = () => ['--data-dir', dataDir, '--config', configFile];
const cli = (...args: string[]) => runCli([...globalArgs(), ...args]);
const marks = () => (existsSync(records) ? readFileSync(records, 'utf8') : '');

/** Waits (real time: a real process runs the action) until `mark` has run once. */
async function untilMarked(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (marks() === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(marks()).toBe('mark\n');
}

/** `taskops serve` expected to exit by itself: its exit code and what it printed. */
function serveUntilExit(port: number, ...extra: string[]): Promise<{ code: number | null; output: string }> {
  const proc = spawn(
    process.execPath,
    ['bin/taskops.js', ...globalArgs(), 'serve', manifests, '--listen', `127.0.0.1:${port}`, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

/** An event waiting in the store: the next engine to start processes it and runs `mark`. */
async function pendingGoEvent(): Promise<void> {
  const store = await openStore(dataDir);
  await store.addEvent({
    id: 'evt_waiting',
    type: 'jobs',
    name: 'go',
    object: null,
    fields: {},
    at: new Date().toISOString(),
  });
  await store.close();
}

describe('serve owns its data dir', () => {
  it('refuses a second serve on the same data dir, naming the engine pid and its start time', async () => {
    server = await startServe({ globalArgs: globalArgs(), serveArgs: [manifests] });
    const holder = JSON.parse(readFileSync(path.join(dataDir, DATA_DIR_LOCK_FILE), 'utf8')) as {
      startedAt: string;
    };
    const second = await serveUntilExit(await freePort());
    expect(second.code).toBe(1);
    expect(second.output).toContain(
      `data dir ${dataDir} is in use by the engine pid ${server.proc.pid}, started at ${holder.startedAt}`,
    );
    expect(second.output).toContain('give this one its own --data-dir');
    // The first one is unaffected and keeps its lock until it stops.
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(await server.kill('SIGTERM')).toBe(0);
    expect(existsSync(path.join(dataDir, DATA_DIR_LOCK_FILE))).toBe(false);
  }, 30_000);

  it('refuses one-shot run, emit and reconcile beside it, pointing to --server; read commands still work', async () => {
    server = await startServe({ globalArgs: globalArgs(), serveArgs: [manifests] });
    const pointer = `listening on ${server.url.replace('http://', '')}`;
    for (const args of [
      ['run', 'mark'],
      ['emit', 'jobs', 'go'],
    ]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`is in use by the engine pid ${server.proc.pid}, started at `);
      expect(r.stderr).toContain(pointer);
      expect(r.stderr).toContain(`add --server ${server.url}.`);
    }
    const apply = await cli('reconcile', manifests);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(`taskops reconcile --server ${server.url}`);
    expect(marks()).toBe('');

    expect((await cli('reconcile', manifests, '--dry-run')).code).toBe(0);
    expect((await cli('status')).code).toBe(0);
    expect((await cli('logs')).code).toBe(0);
    const synced = await cli('reconcile', '--server', server.url);
    expect(synced).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^No changes\. Live state matches path:/),
    });
    const ran = await cli('run', 'mark', '--server', server.url);
    expect(ran.code).toBe(0);
    await untilMarked();
  }, 30_000);

  it('exits 1 on EADDRINUSE, naming the address, before anything runs', async () => {
    // Applied and with an event waiting, so a started engine would run `mark` at once.
    expect((await cli('reconcile', manifests)).code).toBe(0);
    await pendingGoEvent();
    const port = await freePort();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const r = await serveUntilExit(port);
      expect(r.code).toBe(1);
      expect(r.output).toContain(
        `cannot listen on 127.0.0.1:${port}: the address is in use by another process (EADDRINUSE)`,
      );
      expect(r.output).toContain('Pick another --listen');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    expect(marks()).toBe('');
    expect(existsSync(path.join(dataDir, DATA_DIR_LOCK_FILE))).toBe(false);
    // The same data dir on a free port does run it: the mark was only held back by the failed bind.
    server = await startServe({ globalArgs: globalArgs(), serveArgs: [manifests], port });
    await untilMarked();
  }, 30_000);
});

describe('the sync status survives a restart', () => {
  it('taskops status and a restarted serve show the refused revision with file:line', async () => {
    writeFileSync(
      path.join(manifests, 'bad.yaml'),
      'apiVersion: taskops/v1\nkind: Tag\nmetadata: {name: bad}\nspec: {}\n',
    );
    const problem = `${path.join(manifests, 'bad.yaml')}:4:7: Tag/bad: spec.category is required`;
    const port = await freePort();
    server = await startServe({ globalArgs: globalArgs(), serveArgs: [manifests], port });
    expect(await server.kill('SIGTERM')).toBe(0);
    server = undefined;

    const text = await cli('status');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Last sync: invalid');
    expect(text.stdout).toContain(`  ${problem}`);
    const json = JSON.parse((await cli('status', '--output', 'json')).stdout) as {
      sync: { lastOutcome: string; lastError: { problems: string[]; revision: string } };
    };
    expect(json.sync.lastOutcome).toBe('invalid');
    expect(json.sync.lastError.problems).toEqual([problem]);

    server = await startServe({ globalArgs: globalArgs(), serveArgs: [manifests], port });
    const status = (await (await fetch(`${server.url}/api/v1/status`)).json()) as typeof json & {
      sync: { source: string; lastAttemptedRevision: string };
    };
    expect(status.sync).toMatchObject({ lastOutcome: 'invalid', source: manifests });
    expect(status.sync.lastError.problems).toEqual([problem]);
    expect(status.sync.lastAttemptedRevision).toBe(json.sync.lastError.revision);
    expect(await server.kill('SIGTERM')).toBe(0);
    server = undefined;
    // The restarted engine knew this revision had already been reported: one alert, not one per start.
    const db = new Database(path.join(dataDir, 'taskops.db'), { readonly: true });
    const failed = db
      .prepare(`SELECT object FROM events WHERE type = 'system' AND name = 'reconcile-failed'`)
      .all();
    db.close();
    expect(failed).toEqual([{ object: json.sync.lastError.revision }]);
  }, 30_000);
});
