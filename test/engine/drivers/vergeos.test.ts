import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createVergeosDriver,
  type DriverRequest,
  type DriverResult,
  type VergeosDetails,
  type VergeosDriver,
} from '../../../src/engine/drivers/index.js';
import type { DriverConfig, TaskSpec } from '../../../src/manifest/types.js';
import { driverRequest } from '../../helpers/driver-request.js';
import { startVergeosSim, type VergeosSim } from '../../helpers/vergeos-sim.js';

const KEY = 'vk_test_0123456789abcdef';
const task = (action: string): TaskSpec => ({ objectType: 'vms', target: { name: 'gpu-ws-01' }, action });

let sim: VergeosSim;
let driver: VergeosDriver | undefined;
let clock: number;

beforeEach(async () => {
  sim = await startVergeosSim();
  sim.apiKeys.set(KEY, {});
  sim.addVm('gpu-ws-01');
  sim.addVm('gpu-ws-02', { running: true });
  clock = Date.parse('2026-11-23T12:00:00Z');
});
afterEach(async () => {
  await driver?.close?.();
  driver = undefined;
  await sim.close();
});

function make(over: Partial<DriverConfig> = {}, env: Record<string, string> = { VERGEOS_API_KEY: KEY }) {
  driver = createVergeosDriver(
    'vms',
    { type: 'vergeos', url: sim.url, auth: { tokenFrom: { env: 'VERGEOS_API_KEY' } }, ...over },
    {
      env,
      now: () => new Date(clock),
      random: () => 0.5,
    },
  );
  return driver;
}

const actionPosts = () => sim.requests.filter((r) => r.path === '/api/v4/vm_actions');

/** The runner's next attempt of the same run: its number, and the details the last one returned. */
const next = (last: DriverResult, attempt: number, action = 'power-on'): DriverRequest =>
  driverRequest(task(action), { attempt, previous: last.details });

describe('vergeos driver', () => {
  it('powers a VM on through POST /api/v4/vm_actions with its key, found by a filtered GET /api/v4/vms', async () => {
    const result = await make().run(driverRequest(task('power-on')));
    expect(result).toMatchObject({ ok: true, attempts: 1 });
    expect(sim.isRunning('gpu-ws-01')).toBe(true);
    const lookup = sim.requests.find((r) => r.path === '/api/v4/vms')!;
    expect(lookup.query.filter).toBe("name eq 'gpu-ws-01' and is_snapshot eq false");
    expect(lookup.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(actionPosts()[0]!.body).toEqual({ vm: '1', action: 'poweron', params: {} });
  });

  it('maps power-off, kill and reset (graceful) to the VergeOS actions', async () => {
    const d = make();
    const req = (action: string) => driverRequest(task(action), { target: 'gpu-ws-02' });
    expect((await d.run(req('reset'))).ok).toBe(true);
    expect((await d.run(req('power-off'))).ok).toBe(true);
    await d.run(driverRequest(task('power-on'), { target: 'gpu-ws-02' }));
    expect((await d.run(req('kill'))).ok).toBe(true);
    expect(sim.vmActions().map((a) => [a.action, a.params])).toEqual([
      ['reset', { graceful: true }],
      ['poweroff', {}],
      ['poweron', {}],
      ['kill', {}],
    ]);
  });

  it('caches the name look-up: a second action on the same VM costs one request', async () => {
    const d = make();
    await d.run(driverRequest(task('power-on')));
    await d.run(driverRequest(task('power-off')));
    expect(sim.requests.filter((r) => r.path === '/api/v4/vms')).toHaveLength(1);
    expect(actionPosts()).toHaveLength(2);
  });

  it('counts 409 (already in that state) as success, with a note', async () => {
    const result = await make().run(driverRequest(task('power-on'), { target: 'gpu-ws-02' }));
    expect(result.ok).toBe(true);
    expect((result.details as VergeosDetails).note).toMatch(
      /already in that state \(409: VM is already in running state\)/,
    );
  });

  it('fails at once on 401, naming where the key comes from and never the key', async () => {
    const result = await make({}, { VERGEOS_API_KEY: 'vk_wrong_key_value' }).run(
      driverRequest(task('power-on')),
    );
    expect(result.ok).toBe(false);
    expect(result.retryInMs).toBeUndefined();
    expect(result.error).toMatch(/401 Unauthorized.*auth\.tokenFrom \{env: VERGEOS_API_KEY\}/);
    expect(JSON.stringify(result)).not.toContain('vk_wrong_key_value');
    expect(actionPosts()).toHaveLength(0);
  });

  it('fails at once on 403 (a key without write permission)', async () => {
    sim.apiKeys.set(KEY, { readOnly: true });
    const result = await make().run(driverRequest(task('power-on')));
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.error).toMatch(/403 Forbidden/);
    expect(actionPosts()).toHaveLength(1);
  });

  it('makes one attempt per call: 507 and 5xx ask the runner for a retry with backoff, then it succeeds', async () => {
    sim.failNext(1, 507, { path: '/api/v4/vm_actions', err: 'Insufficient resources' });
    sim.failNext(1, 503, { path: '/api/v4/vm_actions' });
    const d = make();
    const first = await d.run(driverRequest(task('power-on')));
    expect(first).toMatchObject({ ok: false, attempts: 1, retryInMs: 500 });
    expect(first.error).toMatch(/attempt 1 failed: poweron: VergeOS answered 507.*insufficient cluster/);
    expect(actionPosts()).toHaveLength(1);
    const second = await d.run(next(first, 2));
    expect(second).toMatchObject({ ok: false, attempts: 1, retryInMs: 1000 });
    const third = await d.run(next(second, 3));
    expect(third).toMatchObject({ ok: true, attempts: 1 });
    expect(third.retryInMs).toBeUndefined();
    const log = (third.details as VergeosDetails).attempts;
    expect(log.map((a) => [a.attempt, a.status])).toEqual([
      [1, 507],
      [2, 503],
      [3, 201],
    ]);
    expect(actionPosts()).toHaveLength(3);
  });

  it('gives up once the attempt after the last of `retries` re-attempts fails: exhausted, no retryInMs', async () => {
    sim.failNext(3, 500, { path: '/api/v4/vm_actions' });
    const d = make({ retries: 2 });
    const first = await d.run(driverRequest(task('power-on')));
    const second = await d.run(next(first, 2));
    expect(second.retryInMs).toBeGreaterThan(0);
    const last = await d.run(next(second, 3));
    expect(last).toMatchObject({ ok: false, attempts: 1, exhausted: true });
    expect(last.retryInMs).toBeUndefined();
    expect(last.error).toMatch(/gave up after 3 attempts; last: poweron: VergeOS answered 500/);
  });

  it('retries: 0 gives up on the first retryable failure', async () => {
    sim.failNext(1, 502, { path: '/api/v4/vm_actions' });
    const result = await make({ retries: 0 }).run(driverRequest(task('power-on')));
    expect(result).toMatchObject({ ok: false, exhausted: true });
    expect(result.retryInMs).toBeUndefined();
  });

  it('backs off on 429 for its Retry-After: the run is delayed, and no request goes out before it passes', async () => {
    sim.failNext(1, 429, { retryAfter: '7' });
    const d = make();
    const first = await d.run(driverRequest(task('power-on')));
    expect(first).toMatchObject({ ok: false, retryInMs: 7000 });
    expect(sim.requests).toHaveLength(1); // the throttled look-up, not repeated inside the call
    // Too early: the pause holds for every request of this key, so nothing is sent.
    clock += 3000;
    const early = await d.run(next(first, 2));
    expect(early).toMatchObject({ ok: false, retryInMs: 4000 });
    expect(sim.requests).toHaveLength(1);
    clock += 4000;
    const later = await d.run(next(early, 3));
    expect(later.ok).toBe(true);
    expect(sim.requests).toHaveLength(3); // the look-up again, then the action
  });

  it('fails a 4xx other than 409/401/403 at once, without a retry', async () => {
    sim.failNext(1, 400, { path: '/api/v4/vm_actions', err: 'bad params' });
    const result = await make().run(driverRequest(task('power-on')));
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.retryInMs).toBeUndefined();
    expect(result.error).toMatch(/VergeOS answered 400: bad params/);
  });

  it('an unreachable VergeOS (no answer) asks for a retry', async () => {
    const url = sim.url;
    await sim.close();
    const result = await make({ url }).run(driverRequest(task('power-on')));
    expect(result).toMatchObject({ ok: false, retryInMs: 500 });
    expect(result.error).toMatch(/could not be reached/);
    sim = await startVergeosSim();
  });

  it('refuses settings that cannot work before sending anything: no attempt, no retry', async () => {
    const result = await make({}, {}).run(driverRequest(task('power-on')));
    expect(result).toMatchObject({ ok: false, attempts: 0 });
    expect(result.retryInMs).toBeUndefined();
    expect(sim.requests).toHaveLength(0);
  });

  it('keeps within its hourly request budget: the request that does not fit is not sent', async () => {
    const d = make({ requestsPerHour: 3 });
    await d.run(driverRequest(task('power-on'))); // look-up + action
    await d.run(driverRequest(task('power-on'), { target: 'gpu-ws-02' })); // look-up
    const sent = sim.requests.length;
    const result = await d.run(driverRequest(task('power-off'), { target: 'gpu-ws-02' }));
    expect(sim.requests).toHaveLength(sent);
    expect(result).toMatchObject({ ok: false, retryInMs: 3_600_000 });
    expect(result.error).toMatch(/request budget \(3 per hour\)/);
    clock += 3_600_000;
    expect((await d.run(driverRequest(task('power-off'), { target: 'gpu-ws-02' }))).ok).toBe(true);
  });

  it('a VM name is one quoted literal in the filter: quotes and operators in it match nothing else', async () => {
    const result = await make().run(driverRequest(task('power-on'), { target: "x' or name ne '" }));
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/no VM named "x' or name ne '" in VergeOS/);
    expect(sim.requests[0]!.query.filter).toBe("name eq 'x'' or name ne ''' and is_snapshot eq false");
    expect(actionPosts()).toHaveLength(0);
  });

  it('logs in with a user name and password, sending the session token as x-yottabyte-token', async () => {
    sim.users.set('svc-taskops', 'pw-secret-1');
    const d = make(
      { auth: { username: 'svc-taskops', passwordFrom: { env: 'VERGEOS_PW' } } },
      { VERGEOS_PW: 'pw-secret-1' },
    );
    expect((await d.run(driverRequest(task('power-on')))).ok).toBe(true);
    const [login, lookup] = sim.requests;
    expect(login).toMatchObject({ method: 'POST', path: '/api/sys/tokens', body: { login: 'svc-taskops' } });
    expect(lookup!.headers['x-yottabyte-token']).toMatch(/^[0-9a-f]{32}$/);
    expect(lookup!.headers.authorization).toBeUndefined();
  });

  it('refuses a plain http:// URL that is not on this machine, before sending anything', async () => {
    const result = await make({ url: 'http://vergeos.example.com' }).run(driverRequest(task('power-on')));
    expect(result.error).toMatch(/must be https:\/\//);
    expect(sim.requests).toHaveLength(0);
  });

  it('refuses a VergeOS tag whose member VM name holds a control character, naming it escaped', async () => {
    sim.addVm('gpu\u001b[2J');
    sim.tagVms('JThompson-GPU', ['gpu-ws-01', 'gpu\u001b[2J']);
    const members = make().resolveMembers!(
      { vergeos: { tag: 'JThompson-GPU' } },
      new AbortController().signal,
    );
    await expect(members).rejects.toThrow(
      /VM "gpu\\u001b\[2J" .*control character U\+001B.*rename it in VergeOS/,
    );
    const message = await members.then(String, (err: Error) => err.message);
    expect(message).not.toContain('\u001b');
  });

  it('resolves a VergeOS tag to its VM names through tag_members', async () => {
    sim.addVm('gpu-ws-03');
    sim.addVm('build-01');
    sim.tagVms('JThompson-GPU', ['gpu-ws-01', 'gpu-ws-02', 'gpu-ws-03']);
    const names = await make().resolveMembers!(
      { vergeos: { tag: 'JThompson-GPU' } },
      new AbortController().signal,
    );
    expect(names).toEqual(['gpu-ws-01', 'gpu-ws-02', 'gpu-ws-03']);
    const members = sim.requests.find((r) => r.path === '/api/v4/tag_members')!;
    expect(members.query).toMatchObject({ filter: 'tag eq 1', fields: '$key,tag,member' });
  });
});
