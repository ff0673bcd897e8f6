import { describe, expect, it } from 'vitest';
import { checkSafety, diff, PlanSafetyError, safetyProblem } from '../../src/reconcile/index.js';
import { desired, live, task } from './fixtures.js';

const tasks = (n: number) => Array.from({ length: n }, (_, i) => task(`t${String(i).padStart(2, '0')}`));

describe('plan safety', () => {
  it('refuses a plan that deletes every live taskops object, naming the flag that allows it', () => {
    const plan = diff(desired('r2'), live(tasks(3)));
    const problem = safetyProblem(plan);
    expect(problem).toBeInstanceOf(PlanSafetyError);
    expect(problem?.rule).toBe('delete-all');
    expect(problem?.message).toMatch(
      /delete every live object taskops manages \(3 of 3\).*--allow-delete-all/s,
    );
  });

  it('allows deleting everything with allowDeleteAll', () => {
    expect(() => checkSafety(diff(desired('r2'), live(tasks(3))), { allowDeleteAll: true })).not.toThrow();
  });

  it('refuses a mass delete above the default share of 50%', () => {
    const all = tasks(10);
    const plan = diff(desired('r2', ...all.slice(0, 4)), live(all));
    expect(safetyProblem(plan)?.rule).toBe('mass-delete');
    expect(safetyProblem(plan)?.message).toMatch(/delete 6 of 10 .*60%.*50%/);
  });

  it('allows a mass delete under a raised share, and deletes at or below the share', () => {
    const all = tasks(10);
    expect(
      safetyProblem(diff(desired('r2', ...all.slice(0, 4)), live(all)), { maxDeleteShare: 0.7 }),
    ).toBeNull();
    expect(safetyProblem(diff(desired('r2', ...all.slice(0, 5)), live(all)))).toBeNull();
  });

  it('does not apply the share to small live states', () => {
    const all = tasks(4);
    expect(safetyProblem(diff(desired('r2', all[0]!), live(all)))).toBeNull();
  });

  it('never counts API-made objects: they are not deleted', () => {
    const plan = diff(desired('r2', task('t00')), [
      ...live([task('t00')]),
      ...live(tasks(5).slice(1), 'api'),
    ]);
    expect(safetyProblem(plan)).toBeNull();
  });
});
