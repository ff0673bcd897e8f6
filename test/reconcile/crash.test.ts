import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, recoverAudit } from '../../src/store/index.js';
import { tempDir } from '../helpers/git.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'apply-child.ts');
const N = 5000;

function startChild(dataDir: string, revision: string, prefix = 'task'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(N), revision, prefix], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function waitFor(child: ChildProcess, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(text)) resolve(performance.now());
    });
    child.on('exit', () => reject(new Error(`child exited before printing ${text}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.on('exit', () => resolve()),
  );

async function storeState(dataDir: string) {
  const db = new Database(join(dataDir, 'taskops.db'));
  const integrity = db.pragma('integrity_check', { simple: true });
  db.close();
  const store = await openStore(dataDir);
  try {
    return {
      integrity,
      objects: (await store.listObjects()).length,
      applied: await store.getAppliedRevision(),
    };
  } finally {
    await store.close();
  }
}

describe('apply under kill -9', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

  it('leaves the store at the old or the new state, never between, wherever the process is killed', async () => {
    // Calibrate: how long does the apply take on this machine when left alone?
    const calibration = tempDir('taskops-crash-');
    dirs.push(calibration);
    const full = startChild(calibration.dir, 'rev-full');
    const started = await waitFor(full, 'applying');
    const finished = await waitFor(full, 'done');
    await exited(full);
    const window = Math.max(5, finished - started);
    expect(await storeState(calibration.dir)).toMatchObject({
      integrity: 'ok',
      objects: N,
      applied: { revision: 'rev-full' },
    });

    const outcomes: number[] = [];
    for (const share of [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.5]) {
      const tmp = tempDir('taskops-crash-');
      dirs.push(tmp);
      const revision = `rev-${share}`;
      const child = startChild(tmp.dir, revision);
      await waitFor(child, 'applying');
      await new Promise((r) => setTimeout(r, share * window));
      child.kill('SIGKILL');
      await exited(child);
      const state = await storeState(tmp.dir);
      expect(state.integrity).toBe('ok');
      expect([0, N]).toContain(state.objects);
      expect(state.applied).toEqual(state.objects === 0 ? null : expect.objectContaining({ revision }));
      // Audit lines are written after the commit, in appends of whole lines: the kill can cut short only the
      // append in progress, so every line that ended (its newline written) parses but the torn last one.
      // The commit kept them in the store too: after a recovery each change has its line, exactly once.
      const store = await openStore(tmp.dir);
      try {
        await recoverAudit(store, tmp.dir);
      } finally {
        await store.close();
      }
      const logs = join(tmp.dir, 'logs');
      const audited: string[] = [];
      if (existsSync(logs)) {
        for (const f of readdirSync(logs)) {
          for (const line of readFileSync(join(logs, f), 'utf8').split('\n').slice(0, -1)) {
            try {
              audited.push((JSON.parse(line) as { name: string }).name);
            } catch {
              // The line the kill tore (ended by the recovery's append): its change is written again whole.
            }
          }
        }
      }
      expect(audited.length).toBe(state.objects);
      expect(new Set(audited).size).toBe(state.objects);
      outcomes.push(state.objects);
    }
    // Killed right at the start, nothing can have committed yet.
    expect(outcomes[0]).toBe(0);
  }, 120_000);

  it('lets two processes apply to one data dir: one at a time, the other applies after or fails clearly', async () => {
    const tmp = tempDir('taskops-two-');
    dirs.push(tmp);
    const a = startChild(tmp.dir, 'rev-a', 'a');
    const b = startChild(tmp.dir, 'rev-b', 'b');
    // Each child's whole error output: a message may come in several chunks.
    const errors = ['', ''];
    [a, b].forEach((c, i) => c.stderr!.on('data', (chunk: Buffer) => (errors[i] += chunk.toString())));
    await Promise.all([exited(a), exited(b)]);
    expect(a.exitCode === 0 || b.exitCode === 0).toBe(true);
    for (const e of errors.filter(Boolean))
      expect(e).toMatch(
        /StoreError: .*(changed while the plan was being made|locked by another taskops process)/,
      );
    const state = await storeState(tmp.dir);
    expect(state.integrity).toBe('ok');
    expect(state.objects).toBe(N);
    const store = await openStore(tmp.dir);
    const prefixes = new Set((await store.listObjects()).map((o) => o.name.split('-')[0]));
    await store.close();
    expect(prefixes.size).toBe(1);
    expect(state.applied?.revision).toBe(`rev-${[...prefixes][0]}`);
  }, 60_000);
});
