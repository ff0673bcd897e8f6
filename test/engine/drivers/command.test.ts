import { existsSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCommandDriver, type CommandDetails } from '../../../src/engine/drivers/index.js';
import type { DriverConfig, TaskSpec } from '../../../src/manifest/types.js';
import { driverRequest } from '../../helpers/driver-request.js';

const node = process.execPath;
const task = (action: string): TaskSpec => ({ objectType: 'vms', action, target: { name: 'gpu-ws-01' } });

function driver(actions: DriverConfig['actions'], extra: Partial<DriverConfig> = {}, killGraceMs = 200) {
  return createCommandDriver('vms', { type: 'command', actions, ...extra }, { killGraceMs });
}

const details = (result: { details?: unknown }) => result.details as CommandDetails;

describe('command driver', () => {
  it('runs the action argv with variables substituted and captures stdout', async () => {
    const vms = driver({
      'power-on': [node, '-e', 'process.stdout.write(process.argv.slice(1).join("|"))', '${NAME}', '${TASK}'],
    });
    const result = await vms.run(driverRequest(task('power-on')));
    expect(result).toMatchObject({ ok: true, attempts: 1 });
    expect(details(result)).toMatchObject({
      exitCode: 0,
      signal: null,
      stdout: 'gpu-ws-01|test-task',
      stderr: '',
    });
  });

  it.each([
    ['a shell command separator', 'x; rm -rf / #'],
    ['command substitution', '$(touch /tmp/taskops-pwned) `id`'],
    ['quotes and globs', `"a" 'b' * ?`],
    // A newline is a control character: refused outright (test/security/argv.test.ts).
    ['a pipe and a redirection', 'a | cat > /tmp/taskops-pwned'],
  ])('passes an object name holding %s as one literal argument, never to a shell', async (_what, name) => {
    const vms = driver({
      inspect: [node, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '${NAME}'],
    });
    const result = await vms.run(driverRequest(task('inspect'), { target: name }));
    expect(JSON.parse(details(result).stdout)).toEqual([name]);
    expect(existsSync('/tmp/taskops-pwned')).toBe(false);
  });

  it('fails with the exit code and the first line of stderr on a non-zero exit', async () => {
    const vms = driver({
      'power-off': [node, '-e', 'console.error("domain not found\\nmore"); process.exit(3)'],
    });
    const result = await vms.run(driverRequest(task('power-off')));
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.error).toBe(`${node} exited with code 3: domain not found`);
    expect(details(result).exitCode).toBe(3);
  });

  it('stops the process with SIGTERM when the run is aborted', async () => {
    const vms = driver({ wait: [node, '-e', 'setInterval(() => {}, 1000)'] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('task timeout after 1 s')), 300);
    const result = await vms.run(driverRequest(task('wait'), { signal: controller.signal }));
    expect(result).toMatchObject({ ok: false, error: `${node} stopped: task timeout after 1 s` });
    expect(details(result).signal).toBe('SIGTERM');
  });

  it('escalates to SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const ready = join(mkdtempSync(join(tmpdir(), 'taskops-kill-')), 'ready');
    const script =
      'process.on("SIGTERM", () => {}); require("fs").writeFileSync(process.argv[1], ""); setInterval(() => {}, 1000)';
    const vms = driver({ stubborn: [node, '-e', script, ready] });
    const controller = new AbortController();
    const started = Date.now();
    const running = vms.run(driverRequest(task('stubborn'), { signal: controller.signal }));
    while (!existsSync(ready)) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort('replaced');
    const result = await running;
    expect(details(result).signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('does not start when the run is already aborted', async () => {
    const controller = new AbortController();
    controller.abort('shutdown');
    const result = await driver({ x: [node, '-e', ''] }).run(
      driverRequest(task('x'), { signal: controller.signal }),
    );
    expect(result).toMatchObject({ ok: false, attempts: 0, error: `${node} not started: shutdown` });
  });

  it('keeps at most maxOutputBytes per stream and marks the cut', async () => {
    const vms = driver(
      {
        chatty: [node, '-e', 'process.stdout.write("a".repeat(1000)); process.stderr.write("b".repeat(50))'],
      },
      { maxOutputBytes: 100 },
    );
    const result = await vms.run(driverRequest(task('chatty')));
    expect(details(result).stdout).toBe(`${'a'.repeat(100)}\n…[truncated: 900 more bytes]`);
    expect(details(result).stderr).toBe('b'.repeat(50));
  });

  it('runs in the configured working directory', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'taskops-cwd-')));
    const vms = driver(
      { where: [node, '-e', 'process.stdout.write(process.cwd())'] },
      { workingDirectory: dir },
    );
    expect(details(await vms.run(driverRequest(task('where')))).stdout).toBe(dir);
  });

  it('reports a command that cannot be started', async () => {
    const result = await driver({ x: ['taskops-no-such-binary'] }).run(driverRequest(task('x')));
    expect(result).toMatchObject({
      ok: false,
      error:
        'cannot start taskops-no-such-binary (ENOENT): not found on PATH, or the workingDirectory does not exist',
    });
  });

  it('refuses an argv whose program name expands to nothing', async () => {
    const result = await driver({ x: ['${FIELD_program}'] }).run(driverRequest(task('x')));
    expect(result).toMatchObject({ ok: false, attempts: 0, error: 'vms x: the program name is empty' });
  });

  it('refuses an action the config does not define, listing the ones it does', async () => {
    const vms = driver({ 'power-on': ['true'], 'power-off': ['true'] });
    expect(vms.actions()).toEqual(['power-on', 'power-off']);
    const result = await vms.run(driverRequest(task('reboot')));
    expect(result.error).toBe('vms has no action reboot; it offers: power-on, power-off');
  });
});
