import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { diff } from '../../src/reconcile/index.js';
import { liveForDiff } from '../../src/reconcile/live-for-diff.js';
import { contentHash, openStore, type ObjectContent, type SqliteStore } from '../../src/store/index.js';
import type { LoadedManifest } from '../../src/manifest/types.js';
import { tempDir } from '../helpers/git.js';
import { desired, tag, task } from './fixtures.js';

const AT = new Date('2026-03-01T10:00:00Z');
let work: ReturnType<typeof tempDir>;
let store: SqliteStore;

beforeEach(async () => {
  work = tempDir('taskops-live-for-diff-');
  store = await openStore(work.dir);
});
afterEach(async () => {
  await store.close();
  work.cleanup();
});

const content = (m: LoadedManifest): ObjectContent => ({
  kind: m.kind,
  name: m.metadata.name,
  metadata: m.metadata,
  spec: m.spec as never,
  hash: contentHash(m.metadata, m.spec),
});

const applied = (...ms: LoadedManifest[]) =>
  store.applyWrites(
    ms.map((m) => ({ action: 'create' as const, object: content(m) })),
    'r1',
    AT,
  );

/** A live state with every case the diff tells apart, and the desired state it is compared with. */
async function everyCase() {
  await applied(
    tag('same'),
    tag('changed'),
    tag('gone'),
    tag('drifted'),
    task('once', { deleteAfterRun: true }),
    task('once-gone', { deleteAfterRun: true }),
  );
  await store.putObjectByHand(content(tag('drifted', ['by-hand'])), AT);
  await store.putObjectByHand(content(tag('handmade')), AT);
  await store.putObjectByHand(content(tag('adopted')), AT);
  await store.retireTask('once', AT);
  await store.retireTask('once-gone', AT);
  return desired(
    'r2',
    tag('same'),
    tag('changed', ['b']),
    tag('drifted'),
    tag('adopted'),
    tag('new'),
    task('once', { deleteAfterRun: true }),
  );
}

describe('liveForDiff', () => {
  it('gives the same plan as every live object, reading the content of changed objects only', async () => {
    const state = await everyCase();
    const reads = vi.spyOn(store, 'getObject');
    const list = vi.spyOn(store, 'listObjects');
    const live = await liveForDiff(store, state);
    const plan = diff(state, live, { fields: false });
    expect(plan).toEqual(diff(state, await store.listObjects(), { fields: false }));
    expect(plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
      'update Tag/adopted',
      'update Tag/changed',
      'update Tag/drifted',
      'delete Tag/gone',
      'create Tag/new',
      'delete Task/once-gone',
    ]);
    expect(plan.notes.map((n) => `${n.reason} ${n.name}`)).toEqual(['unmanaged handmade', 'retired once']);
    // adopted, changed, drifted, gone, once-gone: not same, handmade (a note) nor once (retired).
    expect(reads.mock.calls.map(([, name]) => name).sort()).toEqual([
      'adopted',
      'changed',
      'drifted',
      'gone',
      'once-gone',
    ]);
    expect(list).toHaveBeenCalledTimes(1); // the comparison's own listing above
    expect(live.find((o) => o.name === 'same')).not.toHaveProperty('spec');
  });

  it('reads nothing but summaries when nothing changed', async () => {
    await applied(tag('a'), tag('b'));
    const reads = vi.spyOn(store, 'getObject');
    const list = vi.spyOn(store, 'listObjects');
    const plan = diff(
      desired('r2', tag('a'), tag('b')),
      await liveForDiff(store, desired('r2', tag('a'), tag('b'))),
    );
    expect(plan.changes).toEqual([]);
    expect(reads).not.toHaveBeenCalled();
    expect(list).not.toHaveBeenCalled();
  });

  it('lists every object once more than 1,000 changed, with the same plan', async () => {
    const before = Array.from({ length: 1001 }, (_, i) => tag(`t${i}`));
    await applied(...before);
    const state = desired('r2', ...before.map((m) => tag(m.metadata.name, ['b'])));
    const reads = vi.spyOn(store, 'getObject');
    const live = await liveForDiff(store, state);
    expect(reads).not.toHaveBeenCalled();
    expect(diff(state, live, { fields: false })).toEqual(
      diff(state, await store.listObjects(), { fields: false }),
    );
    expect(live.every((o) => o.spec !== undefined)).toBe(true);
  });

  it('lists every object when one changed between its summary and its read (an API write)', async () => {
    await applied(tag('a'), tag('b'));
    const state = desired('r2', tag('a', ['new']), tag('b'));
    const read = store.getObject.bind(store);
    vi.spyOn(store, 'getObject').mockImplementationOnce(async (kind, name) => {
      await store.putObjectByHand(content(tag('a', ['by-hand'])), AT);
      return read(kind, name);
    });
    const live = await liveForDiff(store, state);
    expect(live.find((o) => o.name === 'a')?.spec).toEqual({ category: 'vms', members: ['by-hand'] });
    expect(diff(state, live, { fields: false })).toEqual(
      diff(state, await store.listObjects(), { fields: false }),
    );
  });

  it('refuses to diff a changed object whose content was not read', () => {
    const state = desired('r2', tag('a', ['new']));
    const summary = {
      kind: 'Tag' as const,
      name: 'a',
      hash: 'x',
      appliedHash: 'x',
      managedBy: 'taskops' as const,
      retiredAt: null,
    };
    expect(() => diff(state, [summary])).toThrow(/content of Tag\/a was not read/);
  });
});
