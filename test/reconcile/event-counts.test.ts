import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/index.js';
import { reconcileOnce, renderJson, renderText } from '../../src/reconcile/index.js';
import { FolderSource } from '../../src/source/index.js';
import { openStore, type SqliteStore } from '../../src/store/index.js';
import { doc, docs } from '../helpers/engine.js';
import { tempDir } from '../helpers/git.js';

let work: ReturnType<typeof tempDir>;
let dataDir: string;
let store: SqliteStore;
const clock = new ManualClock('2026-03-10T10:00:00Z');

beforeEach(async () => {
  work = tempDir('taskops-event-counts-');
  dataDir = path.join(work.dir, 'data');
  store = await openStore(dataDir);
});
afterEach(async () => {
  await store.close();
  work.cleanup();
});

function folder(files: Record<string, string>): FolderSource {
  const dir = path.join(work.dir, 'manifests');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return new FolderSource(dir);
}

const task = doc('Task', 'notify', {
  objectType: 'email',
  action: 'send',
  params: { to: ['ops@example.com'], subject: 's', body: 'b' },
});
const trigger = (event: Record<string, unknown>) =>
  doc('EventTrigger', 'logins', { event, tasks: ['notify'] });

async function record(n: number, object: string, daysAgo: number): Promise<void> {
  const at = new Date(clock.now().getTime() - daysAgo * 86_400_000).toISOString();
  await store.addEvents(
    Array.from({ length: n }, (_, i) => ({
      id: `evt_${object}_${daysAgo}_${i}`,
      type: 'users',
      name: 'login',
      object,
      fields: {},
      at,
    })),
  );
}

describe('event-match counts in plans against a live store', () => {
  it('reports a widened EventTrigger: would have fired 12 times last week (was 3)', async () => {
    const opts = { dataDir, mode: 'apply' as const, record: false };
    await reconcileOnce(
      folder({ 'a.yaml': docs(task, trigger({ type: 'users', name: 'login', object: 'jt' })) }),
      store,
      clock,
      opts,
    );
    await record(3, 'jt', 1);
    await record(9, 'someone', 2);
    await record(5, 'jt', 8); // older than a week: not counted
    const outcome = await reconcileOnce(
      folder({ 'a.yaml': docs(task, trigger({ type: 'users', name: 'login' })) }),
      store,
      clock,
      { ...opts, mode: 'plan' },
    );
    const change = outcome.plan!.changes.find((c) => c.kind === 'EventTrigger')!;
    expect(change.eventMatches).toEqual({ days: 7, before: 3, after: 12 });
    expect(renderText(outcome.plan!)).toContain(
      '  ~ EventTrigger/logins\n      - spec.event.object: "jt"\n      would have fired 12 times last week (was 3)\n',
    );
    const json = JSON.parse(renderJson(outcome.plan!));
    expect(json.changes[0].eventMatches).toEqual({ days: 7, before: 3, after: 12 });
  });

  it('counts a new trigger over the recorded events, with no "was"', async () => {
    await record(2, 'jt', 0);
    const outcome = await reconcileOnce(
      folder({ 'a.yaml': docs(task, trigger({ type: 'users', name: 'login', object: 'jt' })) }),
      store,
      clock,
      { dataDir, mode: 'plan', record: false },
    );
    expect(renderText(outcome.plan!)).toContain('      would have fired 2 times last week\n');
  });
});
