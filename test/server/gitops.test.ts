import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GitOpsLoop } from '../../src/server/gitops.js';
import { FolderSource, type Source } from '../../src/source/index.js';
import { doc, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { fixtureLoop, fixtureServer } from '../helpers/server.js';

const tag = (name: string) => doc('Tag', name, { category: 'vms', members: ['vm-1'] });

let fixture: EngineFixture;
let folder: string;
let loops: GitOpsLoop[] = [];

beforeEach(async () => {
  fixture = await engineFixture({ manifests: {} });
  folder = path.join(fixture.dir, 'followed');
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'a.yaml'), tag('a'));
});
afterEach(async () => {
  for (const loop of loops) await loop.stop();
  loops = [];
  await fixture.close();
});

function loop(source: Source = new FolderSource(folder)): GitOpsLoop {
  const l = fixtureLoop(fixture, source, { displayRoot: 'followed' });
  loops.push(l);
  return l;
}

const tags = async () => (await fixture.store.listObjects('Tag')).map((o) => o.name);
/** Yields to I/O (not to a timer: the clock is manual) until `fn` holds, for at most 2 s. */
async function eventually(fn: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setImmediate(r));
  }
}

describe('the GitOps loop', () => {
  it('polls on the injected clock: nothing before the interval, a sync once it has passed, then re-armed', async () => {
    const folderSource = new FolderSource(folder);
    let fetches = 0;
    const l = loop({
      describe: () => folderSource.describe(),
      fetch: () => (fetches++, folderSource.fetch()),
    });
    expect((await l.syncNow()).outcome).toBe('applied');
    await l.start(60_000);
    writeFileSync(path.join(folder, 'b.yaml'), tag('b'));
    fixture.clock.advanceBy(59_000);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(fetches).toBe(1);
    fixture.clock.advanceBy(1_000);
    await eventually(async () => (await tags()).includes('b'));
    expect(fetches).toBe(2);
    writeFileSync(path.join(folder, 'c.yaml'), tag('c'));
    fixture.clock.advanceBy(60_000);
    await eventually(async () => (await tags()).includes('c'));
    expect(fetches).toBe(3);
  });

  it('keeps a refused revision in the store: a new loop (a restart) reports it and does not alert again', async () => {
    writeFileSync(
      path.join(folder, 'bad.yaml'),
      'apiVersion: taskops/v1\nkind: Tag\nmetadata: {name: bad}\nspec: {}\n',
    );
    const first = await loop().syncNow();
    expect(first).toMatchObject({
      outcome: 'invalid',
      error: { reason: 'invalid', problems: ['followed/bad.yaml:4:7: Tag/bad: spec.category is required'] },
    });
    const again = await loop().syncNow();
    expect(again.outcome).toBe('invalid');
    const events = await eventsNamed('reconcile-failed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ object: first.revision, fields: { reason: 'invalid' } });

    const app = fixtureServer(fixture, { apiToken: null, sync: loop() });
    const status = (await app.inject({ url: '/api/v1/status' })).json() as { sync: Record<string, unknown> };
    expect(status.sync).toMatchObject({
      source: folder,
      autoApply: true,
      lastOutcome: 'invalid',
      lastAttemptedRevision: first.revision,
      lastError: { problems: ['followed/bad.yaml:4:7: Tag/bad: spec.category is required'] },
    });
    await app.close();
  });
});

async function eventsNamed(name: string) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path.join(fixture.dataDir, 'taskops.db'), { readonly: true });
  const rows = db
    .prepare(`SELECT object, fields FROM events WHERE type = 'system' AND name = ?`)
    .all(name) as Array<{
    object: string;
    fields: string;
  }>;
  db.close();
  return rows.map((r) => ({ object: r.object, fields: JSON.parse(r.fields) as Record<string, unknown> }));
}
