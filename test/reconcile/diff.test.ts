import { describe, expect, it } from 'vitest';
import { diff } from '../../src/reconcile/index.js';
import type { DiffDesired, DiffLive } from '../../src/reconcile/diff.js';
import { UnchangedCheck } from '../../src/reconcile/unchanged.js';
import { contentHash } from '../../src/store/hash.js';
import { desired, live, tag, task, webhook } from './fixtures.js';

/** Whether `diff` would plan any change, as serve's unchanged restart tells it (UnchangedCheck over every object). */
function changesAnything(desired: DiffDesired, live: readonly DiffLive[]): boolean {
  const check = new UnchangedCheck(desired);
  return !live.every((o) => check.see(o)) || check.plan() === null;
}

describe('diff', () => {
  it('plans a create for every object when nothing is live, ordered by kind then name', () => {
    const plan = diff(desired('r1', task('b'), task('a'), tag('gpu'), webhook('slack')), []);
    expect(plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
      'create Tag/gpu',
      'create Webhook/slack',
      'create Task/a',
      'create Task/b',
    ]);
    expect(plan.summary).toEqual({ create: 4, update: 0, delete: 0 });
    expect(plan.revision).toBe('r1');
  });

  it('plans nothing when the live state was applied from the same manifests', () => {
    const ms = [task('a'), tag('gpu')];
    const plan = diff(desired('r2', ...ms), live(ms));
    expect(plan.changes).toEqual([]);
    expect(plan.summary).toEqual({ create: 0, update: 0, delete: 0 });
  });

  it('plans an update with field-level before and after of spec and metadata', () => {
    const before = task('a', { params: { payload: 'x' } }, { description: 'old' });
    const after = task('a', { params: { payload: 'y' } }, { description: 'new', labels: { team: 'ops' } });
    const plan = diff(desired('r2', after), live([before]));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({ action: 'update', kind: 'Task', name: 'a', drift: false });
    expect(plan.changes[0]?.fieldChanges).toEqual([
      { path: 'metadata.description', before: 'old', after: 'new' },
      { path: 'metadata.labels.team', before: undefined, after: 'ops' },
      { path: 'spec.params.payload', before: 'x', after: 'y' },
    ]);
  });

  it('without field detail (serve) makes the same changes, hashes and summary, only fieldChanges and defaults empty', () => {
    const before = [task('a', { params: { payload: 'x' } }), task('gone'), tag('gpu')];
    const after = desired('r2', task('a', { params: { payload: 'y' } }), tag('gpu'), webhook('new'));
    const full = diff(after, live(before));
    const bare = diff(after, live(before), { fields: false });
    expect(full.changes.some((c) => c.fieldChanges.length > 0 && c.defaults.length >= 0)).toBe(true);
    expect(bare).toEqual({
      ...full,
      changes: full.changes.map((c) => ({ ...c, fieldChanges: [], defaults: [] })),
    });
  });

  it('plans deletes for taskops objects no longer declared', () => {
    const plan = diff(desired('r2', task('a')), live([task('a'), task('gone')]));
    expect(plan.changes.map((c) => `${c.action} ${c.name}`)).toEqual(['delete gone']);
    expect(plan.changes[0]?.after).toBeNull();
  });

  it('never deletes objects made through the API and notes them as unmanaged, kept', () => {
    const plan = diff(desired('r2', task('a')), [...live([task('a')]), ...live([task('handmade')], 'api')]);
    expect(plan.changes).toEqual([]);
    expect(plan.notes).toEqual([
      expect.objectContaining({
        kind: 'Task',
        name: 'handmade',
        reason: 'unmanaged',
        message: expect.stringContaining('unmanaged, kept'),
      }),
    ]);
  });

  it('takes over an API-made object once the source declares it', () => {
    const plan = diff(desired('r2', task('a')), live([task('a')], 'api'));
    expect(plan.changes).toEqual([
      expect.objectContaining({ action: 'update', name: 'a', adopt: true, fieldChanges: [] }),
    ]);
  });

  it('puts a live object changed by hand back to the source, marked as drift', () => {
    const objects = live([task('a', { action: 'power-on' })]);
    const edited = task('a', { action: 'power-off' });
    objects[0] = { ...objects[0]!, spec: edited.spec, hash: contentHash(edited.metadata, edited.spec) };
    const plan = diff(desired('r2', task('a', { action: 'power-on' })), objects);
    expect(plan.changes[0]).toMatchObject({ action: 'update', drift: true });
    expect(plan.changes[0]?.fieldChanges).toEqual([
      { path: 'spec.action', before: 'power-off', after: 'power-on' },
    ]);
  });

  it('leaves a retired one-time task alone and notes why', () => {
    const objects = live([task('once', { deleteAfterRun: true })]);
    objects[0] = { ...objects[0]!, retiredAt: '2026-01-02T00:00:00.000Z' };
    const plan = diff(desired('r2', task('once', { deleteAfterRun: true, action: 'power-off' })), objects);
    expect(plan.changes).toEqual([]);
    expect(plan.notes[0]).toMatchObject({ name: 'once', reason: 'retired' });
    expect(plan.notes[0]?.message).toContain('retired after its run (deleteAfterRun)');
  });

  it('deletes a retired task once its manifest is removed', () => {
    const objects = live([task('once', { deleteAfterRun: true }), task('keep')]);
    objects[0] = { ...objects[0]!, retiredAt: '2026-01-02T00:00:00.000Z' };
    const plan = diff(desired('r2', task('keep')), objects);
    expect(plan.changes.map((c) => `${c.action} ${c.name}`)).toEqual(['delete once']);
  });

  it('treats a field written out with its default value as no change', () => {
    const withoutLabels = task('a');
    const spelledOut = task('a', { enabled: true, concurrency: 'forbid' }, { labels: {} });
    const liveObjects = live([withoutLabels]);
    liveObjects[0]!.metadata = { name: 'a' };
    expect(diff(desired('r2', spelledOut), liveObjects).changes).toEqual([]);
  });

  it('compares secret references as one value', () => {
    const before = webhook('w', { auth: { type: 'bearer', tokenFrom: { env: 'OLD' } } });
    const after = webhook('w', { auth: { type: 'bearer', tokenFrom: { file: '/run/secrets/t' } } });
    const plan = diff(desired('r2', after), live([before]));
    expect(plan.changes[0]?.fieldChanges).toEqual([
      { path: 'spec.auth.tokenFrom', before: { env: 'OLD' }, after: { file: '/run/secrets/t' } },
    ]);
  });

  it('counts live taskops objects, not API-made ones, as the base for safety rules', () => {
    const plan = diff(desired('r2'), [...live([task('a'), task('b')]), ...live([task('c')], 'api')]);
    expect(plan.liveManaged).toBe(2);
  });

  it('is deterministic whatever order manifests and live objects come in', () => {
    const ms = [task('c'), tag('t'), task('a'), webhook('w')];
    const liveObjects = live([task('z'), task('y')]);
    const one = diff(desired('r', ...ms), liveObjects);
    const two = diff(desired('r', ...[...ms].reverse()), [...liveObjects].reverse());
    expect(JSON.stringify(two)).toBe(JSON.stringify(one));
  });

  it('changesAnything says whether the diff plans a change, in every case it tells apart', () => {
    const retired = (o: ReturnType<typeof live>[number]) => ({ ...o, retiredAt: '2026-01-02T00:00:00.000Z' });
    const cases: Array<[string, ReturnType<typeof desired>, ReturnType<typeof live>, boolean]> = [
      ['same', desired('r2', task('a')), live([task('a')]), false],
      ['create', desired('r2', task('a'), task('b')), live([task('a')]), true],
      ['update', desired('r2', task('a', { action: 'power-off' })), live([task('a')]), true],
      ['delete', desired('r2'), live([task('a')]), true],
      ['unmanaged', desired('r2', task('a')), [...live([task('a')]), ...live([tag('x')], 'api')], false],
      ['adopt', desired('r2', tag('x')), live([tag('x')], 'api'), true],
      ['retired, declared', desired('r2', task('a')), live([task('a')]).map(retired), false],
      ['retired, gone', desired('r2'), live([task('a')]).map(retired), true],
      ['retired by hand, declared', desired('r2', task('a')), live([task('a')], 'api').map(retired), false],
      ['retired by hand, gone', desired('r2'), live([task('a')], 'api').map(retired), false],
      [
        'drifted',
        desired('r2', tag('x')),
        live([tag('x', ['hand'])]).map((o) => ({ ...o, appliedHash: 'a' })),
        true,
      ],
      [
        'drift undone',
        desired('r2', tag('x')),
        live([tag('x')]).map((o) => ({ ...o, appliedHash: 'a' })),
        false,
      ],
    ];
    for (const [name, d, l, changes] of cases) {
      expect([name, changesAnything(d, l)]).toEqual([name, changes]);
      expect([name, diff(d, l).changes.length > 0]).toEqual([name, changes]);
    }
  });

  it("UnchangedCheck gives the diff's own plan when nothing changes, and null at the first change", () => {
    const retired = (o: ReturnType<typeof live>[number]) => ({ ...o, retiredAt: '2026-01-02T00:00:00.000Z' });
    const many = ['d', 'b', 'a', 'c'].map((n) => task(n));
    const unchanged: Array<[string, ReturnType<typeof desired>, ReturnType<typeof live>]> = [
      ['empty', desired('r2'), []],
      ['same, any order', desired('r2', ...many, tag('t')), live([tag('t'), ...many].reverse())],
      [
        'notes of both kinds, out of order',
        { ...desired('r2', task('b'), task('a')), warnings: ['w1', 'w2'] },
        [
          ...live([tag('z'), tag('y')], 'api'),
          ...live([task('b'), task('a')]).map(retired),
          ...live([task('x')], 'api').map(retired),
        ],
      ],
    ];
    for (const [name, d, l] of unchanged) {
      const check = new UnchangedCheck(d);
      expect([name, l.every((o) => check.see(o))]).toEqual([name, true]);
      expect([name, check.plan()]).toStrictEqual([name, diff(d, l, { fields: false })]);
    }
    const created = new UnchangedCheck(desired('r2', task('a'), task('b')));
    expect(live([task('a')]).every((o) => created.see(o))).toBe(true);
    expect(created.plan()).toBeNull();
    const updated = new UnchangedCheck(desired('r2', task('a', { action: 'power-off' }), task('b')));
    const seen: string[] = [];
    const l = live([task('a'), task('b')]);
    expect(l.every((o) => seen.push(o.name) > 0 && updated.see(o))).toBe(false);
    expect(seen).toEqual(['a']);
    // Once changed it stays so: nothing seen after can make the plan whole again.
    expect(updated.see(l[1]!)).toBe(false);
    expect(updated.plan()).toBeNull();
  });
});
