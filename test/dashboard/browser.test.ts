import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTransfer, launchChromium, screenshot } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const TOKEN = 'browser-test-token-0123456789';
const EXAMPLES = path.resolve('examples');

let browser: Browser;
let open: ServeProcess;
let guarded: ServeProcess;
/** Plays Slack: every delivery fails with 500, so the webhook task's run records each attempt. */
let slack: http.Server;
let slackUrl: string;
let slackHits = 0;
/** What Slack answers; 410 Gone makes taskops disable the webhook until it is re-enabled. */
let slackStatus = 500;
/** Another site on this machine (a different port is the same site to the browser, not the same origin). */
let attacker: http.Server;
let attackerUrl: string;

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The bundled examples in a temp dir with an engine config that runs them on this machine. */
function exampleSetup(): {
  globalArgs: string[];
  serveArgs: string[];
  env: Record<string, string>;
  cwd: string;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'taskops-dashboard-'));
  cpSync(EXAMPLES, path.join(dir, 'examples'), { recursive: true });
  const driver = path.join(dir, 'examples/drivers/vm-power.mjs');
  const config = path.join(dir, 'taskops.config.yaml');
  writeFileSync(
    config,
    stringify({
      defaultTimezone: 'UTC',
      drivers: {
        vms: {
          type: 'command',
          actions: {
            'power-on': ['node', driver, 'on', '${NAME}'],
            'power-off': ['node', driver, 'off', '${NAME}'],
          },
        },
      },
      secrets: { env: ['SLACK_WEBHOOK_URL', 'SLACK_BOT_TOKEN'] },
      webhooks: { allowDestinations: ['127.0.0.1'] },
      // Nothing listens here: the email task fails at once, without leaving the machine.
      smtp: { url: 'smtp://127.0.0.1:9', from: 'taskops@example.com' },
    }),
  );
  return {
    globalArgs: ['--config', config, '--data-dir', path.join(dir, 'data')],
    // Relative, as an operator types it: objects then show `examples/gpu-vms/tasks.yaml:2`.
    serveArgs: ['examples'],
    cwd: dir,
    env: {
      SLACK_WEBHOOK_URL: `${slackUrl}/services/T000/B000`,
      SLACK_BOT_TOKEN: 'xoxb-test',
      TASKOPS_EXAMPLE_VMS: path.join(dir, 'vms.jsonl'),
    },
  };
}

beforeAll(async () => {
  slack = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      slackHits++;
      res.writeHead(slackStatus, { 'content-type': 'text/plain' }).end('slack is down');
    });
  });
  slackUrl = await listen(slack);
  attacker = http.createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<p>cats</p>'),
  );
  attackerUrl = await listen(attacker);
  const setup = exampleSetup();
  open = await startServe(setup);
  const withToken = exampleSetup();
  guarded = await startServe({ ...withToken, env: { ...withToken.env, TASKOPS_API_TOKEN: TOKEN } });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await open?.kill('SIGTERM');
  await guarded?.kill('SIGTERM');
  slack?.close();
  attacker?.close();
});

/** A browser profile of its own, in a zone other than the schedules', so both times show. */
const newContext = (): Promise<BrowserContext> =>
  browser.newContext({ timezoneId: 'Europe/Berlin', viewport: { width: 1360, height: 900 } });

async function waitForRun(
  base: string,
  query: string,
  done: (r: { runId: string; status: string }) => boolean,
) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { runs } = (await (await fetch(`${base}/api/v1/runs?${query}`)).json()) as {
      runs: Array<{ runId: string; status: string }>;
    };
    const run = runs.find(done);
    if (run) return run;
    if (Date.now() > deadline) throw new Error(`no run for ${query}: ${JSON.stringify(runs)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the Tasks Dashboard in headless Chromium', () => {
  it("shows the examples' tasks and the Friday firing in New York time, in under 200 KB", async () => {
    const context = await newContext();
    const page = await context.newPage();
    const transferred = countTransfer(page);
    await page.goto(open.url);
    const tasks = page.locator('#overview-tasks');
    for (const name of ['email-sync-error', 'power-off-gpu-vms', 'power-on-gpu-vms', 'slack-sync-error']) {
      await expect.poll(() => tasks.getByRole('link', { name, exact: true }).count()).toBe(1);
    }
    const friday = page.locator('#timeline tbody tr', { hasText: 'friday-6pm' }).first();
    await expect
      .poll(() => friday.locator('.zone-time').textContent())
      .toMatch(/^Fri \d{4}-\d\d-\d\d 18:00 E[SD]T/);
    // The same instant in the viewer's zone: Saturday, midnight or 01:00 in Berlin.
    expect(await friday.locator('td').nth(2).textContent()).toMatch(
      /^Sat \d{4}-\d\d-\d\d 0[01]:00 GMT\+[12]/,
    );
    await expect.poll(() => page.locator('#revision code').textContent()).not.toBe('—');
    expect(await page.locator('.readonly').textContent()).toContain('never edits it');
    await page.waitForLoadState('networkidle');
    expect(transferred()).toBeGreaterThan(10_000);
    expect(transferred()).toBeLessThan(200 * 1024);
    await screenshot(page, 'overview');
    for (const [hash, name] of [
      ['#/tasks', 'tasks'],
      ['#/schedules', 'schedules'],
      ['#/triggers', 'triggers'],
      ['#/tags', 'tags'],
    ] as const) {
      await page.goto(`${open.url}/${hash}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      await screenshot(page, name);
    }
    expect(await page.locator('#tags').textContent()).toContain('gpu-ws-03');
    // Each object names where it is declared in the repo, as file:line.
    expect(await page.locator('#tags .source').first().textContent()).toMatch(
      /^examples\/gpu-vms\/tag\.yaml:\d+$/,
    );
    await page.goto(`${open.url}/#/tasks`);
    const powerOn = page.locator('tr', { hasText: 'power-on-gpu-vms' }).locator('.source');
    await expect.poll(() => powerOn.textContent()).toBe('examples/gpu-vms/tasks.yaml:2');
    await context.close();
  });

  it('Run now on power-on-gpu-vms adds runs that appear live in the log view', async () => {
    const context = await newContext();
    const logs = await context.newPage();
    await logs.goto(`${open.url}/#/logs`);
    await logs.locator('.live.on').waitFor();
    const before = await logs.locator('table.runs tbody tr', { hasText: 'power-on-gpu-vms' }).count();

    const task = await context.newPage();
    await task.goto(`${open.url}/#/tasks/power-on-gpu-vms`);
    await task.getByRole('button', { name: 'Run now' }).click();
    await task.getByText('Queued 3 run(s).').waitFor();

    // No reload of the log view: the three runs (one per tag member) arrive over server-sent events.
    const rows = logs.locator('table.runs tbody tr', { hasText: 'power-on-gpu-vms' });
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(before + 3);
    await expect
      .poll(() => logs.locator('table.runs tbody tr', { hasText: 'succeeded' }).count(), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(3);
    await expect
      .poll(() => task.locator('#task-runs tbody tr').count(), { timeout: 15_000 })
      .toBe(before + 3);
    await screenshot(task, 'task');
    await screenshot(logs, 'logs');
    await context.close();
  });

  it("shows a failing webhook's run with each of its attempts", async () => {
    const res = await fetch(`${open.url}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'syncs', name: 'error', object: 'nightly' }),
    });
    expect(res.status).toBe(202);
    const run = await waitForRun(open.url, 'task=slack-sync-error', (r) => r.status === 'failed');
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${open.url}/#/runs/${encodeURIComponent(run.runId)}`);
    const attempts = page.locator('#attempts tbody tr');
    // retries: 3 in the example, so four attempts, each answered 500.
    await expect.poll(() => attempts.count()).toBe(4);
    expect(slackHits).toBeGreaterThanOrEqual(4);
    for (let i = 0; i < 4; i++) expect(await attempts.nth(i).textContent()).toContain('HTTP 500');
    expect(await page.locator('#run-error').textContent()).toContain('webhook slack-ops');
    await screenshot(page, 'run');
    await page.goto(`${open.url}/#/webhooks`);
    await page.locator('[data-webhook="slack-ops"] .badge.failing').waitFor();
    await screenshot(page, 'webhooks');
    await context.close();
  });

  it("a failed delivery's Replay makes a new run with trigger replay that appears live", async () => {
    const failed = await waitForRun(open.url, 'task=slack-sync-error', (r) => r.status === 'failed');
    const context = await newContext();
    const logs = await context.newPage();
    await logs.goto(`${open.url}/#/logs`);
    await logs.locator('.live.on').waitFor();
    const replays = logs.locator('table.runs tbody tr', { hasText: `replay ${failed.runId}` });
    expect(await replays.count()).toBe(0);

    const page = await context.newPage();
    await page.goto(`${open.url}/#/webhooks`);
    const row = page.locator(`[data-webhook="slack-ops"] tr[data-delivery="${failed.runId}"]`);
    await row.getByText('HTTP 500').first().waitFor();
    await row.getByRole('button', { name: 'Replay' }).click();
    await row.getByText('Replay queued as').waitFor();
    const replayId = await row.locator('.ok a').textContent();

    // No reload: the replay arrives in the log view over server-sent events, named after what it replays.
    await expect.poll(() => replays.count(), { timeout: 15_000 }).toBe(1);
    expect(await replays.first().getAttribute('data-run')).toBe(replayId);
    const runs = (await (await fetch(`${open.url}/api/v1/runs?task=slack-sync-error`)).json()) as {
      runs: Array<{ runId: string; trigger: { kind: string; name: string } }>;
    };
    expect(runs.runs.find((r) => r.runId === replayId)?.trigger).toMatchObject({
      kind: 'replay',
      name: failed.runId,
    });
    await screenshot(page, 'webhooks-replay');

    // The failed run's own page offers Replay too; the replay's page links back to the run it replays.
    await page.goto(`${open.url}/#/runs/${encodeURIComponent(failed.runId)}`);
    await page.getByRole('button', { name: 'Replay' }).waitFor();
    await page.goto(`${open.url}/#/runs/${encodeURIComponent(replayId!)}`);
    await page.locator('dd', { hasText: 'replay of' }).getByRole('link', { name: failed.runId }).waitFor();
    await context.close();
  });

  it('a webhook its receiver disabled with 410 shows Re-enable, which sends deliveries again', async () => {
    // The replay of the last test first ends (a run still going would make this event's run wait).
    const unfinished = async () =>
      (
        (await (await fetch(`${open.url}/api/v1/runs?task=slack-sync-error`)).json()) as {
          runs: Array<{ status: string }>;
        }
      ).runs.filter((r) => ['queued', 'delayed', 'running'].includes(r.status)).length;
    await expect.poll(unfinished, { timeout: 20_000 }).toBe(0);
    slackStatus = 410;
    try {
      const res = await fetch(`${open.url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'syncs', name: 'error', object: 'nightly' }),
      });
      expect(res.status).toBe(202);
      const disabled = async () =>
        Object.keys(
          ((await (await fetch(`${open.url}/api/v1/status`)).json()) as { disabledWebhooks: object })
            .disabledWebhooks,
        );
      await expect.poll(disabled, { timeout: 15_000 }).toEqual(['slack-ops']);
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(`${open.url}/#/webhooks`);
      const alert = page.locator('[data-webhook="slack-ops"] .disabled-webhook');
      await alert.getByText('HTTP 410').waitFor();
      await screenshot(page, 'webhooks-disabled');
      await alert.getByRole('button', { name: 'Re-enable' }).click();
      await page.getByText('Deliveries are sent again.').waitFor();
      expect(await disabled()).toEqual([]);
      await expect.poll(() => alert.count()).toBe(0);
      await context.close();
    } finally {
      slackStatus = 500;
    }
  }, 60_000);

  it('with a token, a visitor who has not logged in sees only the login page', async () => {
    const context = await newContext();
    const page = await context.newPage();
    const answers: Array<[string, number]> = [];
    page.on('response', (r) => answers.push([new URL(r.url()).pathname, r.status()]));
    await page.goto(guarded.url);
    await page.locator('#login').waitFor();
    expect(await page.locator('nav').count()).toBe(0);
    expect(answers.map(([p]) => p).sort()).toEqual(['/', '/assets/login.js', '/assets/style.css']);
    // Nothing else answers without the session: neither the dashboard's code nor the API.
    for (const p of ['/assets/app.js', '/api/v1/tasks', '/api/v1/runs?follow=1']) {
      expect(await page.evaluate(async (u) => (await fetch(u)).status, p), p).toBe(401);
    }
    await page.locator('#token').fill('not-the-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('that is not the API token of this server').waitFor();
    await screenshot(page, 'login');

    await page.locator('#token').fill(TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#overview-tasks').getByRole('link', { name: 'power-on-gpu-vms' }).waitFor();
    const [cookie] = await context.cookies(guarded.url);
    expect(cookie).toMatchObject({
      name: 'taskops_session',
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
    });
    expect(await page.evaluate('document.cookie')).toBe('');
    await context.close();
  });

  it('refuses a write that another site on this machine makes with the session cookie', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(guarded.url);
    await page.locator('#token').fill(TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#overview-tasks').waitFor();
    const manualRuns = async () =>
      (
        (await (
          await fetch(`${guarded.url}/api/v1/runs?task=power-on-gpu-vms`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          })
        ).json()) as { runs: unknown[] }
      ).runs.length;
    const before = await manualRuns();

    // Same site (127.0.0.1, another port), so SameSite alone lets the cookie go along: the Origin check refuses.
    const evil = await context.newPage();
    await evil.goto(attackerUrl);
    const outcome = await evil.evaluate(async (target) => {
      // A "simple" request: no preflight, so the browser sends it and only hides the answer.
      return fetch(`${target}/api/v1/tasks/power-on-gpu-vms/run`, {
        method: 'POST',
        credentials: 'include',
        mode: 'no-cors',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      }).then(
        (res) => res.type,
        // Cross-Origin-Resource-Policy: same-origin hides even the opaque answer; the request was still sent.
        () => 'blocked',
      );
    }, guarded.url);
    expect(['opaque', 'blocked']).toContain(outcome);
    await new Promise((r) => setTimeout(r, 500));
    expect(await manualRuns()).toBe(before);
    // The dashboard's own page still may.
    expect(
      await page.evaluate(
        async () =>
          (
            await fetch('/api/v1/tasks/power-on-gpu-vms/run', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: '{}',
            })
          ).status,
      ),
    ).toBe(202);
    await context.close();
  });
});
