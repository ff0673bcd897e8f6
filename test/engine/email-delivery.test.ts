import { afterEach, describe, expect, it } from 'vitest';
import { readTaskLogs } from '../../src/engine/index.js';
import { doc, docs, engineFixture, type EngineFixture } from '../helpers/engine.js';
import { startSmtpPeer } from '../helpers/smtp-peer.js';
import { until } from '../helpers/wait.js';

let fixture: EngineFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const manifests = {
  'm.yaml': docs(
    doc('Task', 'page', {
      objectType: 'email',
      action: 'send',
      params: {
        to: ['ops@example.com', 'oncall@example.com'],
        subject: 'sync ${NAME} failed',
        body: 'see ${RUN_ID}',
      },
    }),
    doc('EventTrigger', 'go', { event: { type: 'syncs', name: 'error' }, tasks: ['page'] }),
  ),
};

async function engineWith(port: number) {
  fixture = await engineFixture({
    config: {
      smtp: {
        url: `smtp://127.0.0.1:${port}`,
        from: 'taskops@example.com',
        retries: 2,
        retrySchedule: { intervals: ['1m', '10m'] },
      },
    },
    manifests,
  });
  return fixture;
}

describe('email delivery in the engine', () => {
  it('retries while the SMTP server is down on the policy’s intervals, then fails and logs the last error', async () => {
    const down = await startSmtpPeer();
    const port = down.port;
    await down.close();
    const f = await engineWith(port);
    await f.engine.submitEvent({ type: 'syncs', name: 'error', object: 'nightly' });
    await f.engine.whenIdle();
    for (const wait of [60_000, 600_000]) {
      const [delayed] = await f.store.listRuns({ task: 'page', status: ['delayed'] });
      expect(Date.parse(delayed!.nextAttemptAt!) - f.clock.now().getTime()).toBe(wait);
      f.clock.advanceBy(wait);
      await until(
        async () => (await f.store.listRuns({ task: 'page', status: ['delayed'] })).length === 0,
        'the retry',
      );
      await f.engine.whenIdle();
    }
    const [line] = readTaskLogs(f.dataDir).filter((l) => l.task === 'page');
    expect(line).toMatchObject({ status: 'failed', attempts: 3 });
    expect(line!.error).toMatch(/^email: gave up after 3 attempts; last: .*ECONNREFUSED/);
  });

  it('fails the run on a partial refusal, against a real SMTP server', async () => {
    const smtp = await startSmtpPeer({ refuse: { 'oncall@example.com': [550, 'No such user'] } });
    try {
      const f = await engineWith(smtp.port);
      await f.engine.submitEvent({ type: 'syncs', name: 'error', object: 'nightly' });
      await f.engine.whenIdle();
      const [run] = await f.store.listRuns({ task: 'page' });
      expect(run).toMatchObject({ status: 'failed', attempts: 1 });
      expect(run!.error).toContain('oncall@example.com (550 No such user)');
      expect(smtp.messages).toHaveLength(1);
    } finally {
      await smtp.close();
    }
  });
});
