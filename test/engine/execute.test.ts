import { describe, expect, it } from 'vitest';
import type { Driver, DriverRequest } from '../../src/engine/drivers/index.js';
import { executeRun, type ExecuteInput } from '../../src/engine/runs/execute.js';
import { buildState } from '../../src/engine/state.js';
import type { RunRecord } from '../../src/store/index.js';

function inputFor(runId: string, driver: Driver, signal: () => AbortSignal): ExecuteInput {
  const run = {
    runId,
    task: 'power-off',
    status: 'running',
    trigger: { kind: 'manual', name: null, event: null },
    target: { objectType: 'noop', name: 'vm-1' },
    attempts: 1,
    delivery: null,
    details: null,
  } as unknown as RunRecord;
  return {
    run,
    task: { objectType: 'noop', action: 'ok' } as ExecuteInput['task'],
    state: buildState([]),
    drivers: { get: () => driver, catalog: () => ({ noop: ['ok'] }), close: async () => undefined },
    event: null,
    now: new Date('2026-12-02T00:00:00Z'),
    zone: 'UTC',
    random: () => 0.5,
    get signal() {
      return signal();
    },
  };
}

describe('executeRun', () => {
  it("reads the run's abort signal only when the driver does, through a getter all requests share", async () => {
    const requests: DriverRequest[] = [];
    const driver: Driver = {
      objectType: 'noop',
      actions: () => ['ok'],
      async run(req) {
        requests.push(req);
        return { ok: true, attempts: 1 };
      },
    };
    let made = 0;
    const controller = new AbortController();
    const signal = () => (made++, controller.signal);
    await executeRun(inputFor('run_a', driver, signal));
    await executeRun(inputFor('run_b', driver, signal));
    expect(made).toBe(0);
    const [a, b] = requests as [DriverRequest, DriverRequest];
    // A getter in an object literal gives each request a closure and a hidden class of its own (see execute.ts).
    expect(Object.getOwnPropertyDescriptor(a, 'signal')).toBeUndefined();
    expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b));
    expect(a.signal).toBe(controller.signal);
    expect(made).toBe(1);
    expect({ runId: a.runId, target: a.target, attempt: a.attempt, task: a.task.name }).toEqual({
      runId: 'run_a',
      target: 'vm-1',
      attempt: 1,
      task: 'power-off',
    });
    expect('webhook' in a).toBe(false);
  });
});
