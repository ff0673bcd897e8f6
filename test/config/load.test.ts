import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { driverCatalog, loadEngineConfig } from '../../src/config/index.js';

const file = (text: string) => {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'taskops-config-')), 'taskops.config.yaml');
  writeFileSync(f, text);
  return f;
};

describe('the engine config', () => {
  it('fills in every default when there is no file', () => {
    const r = loadEngineConfig(undefined, {});
    expect(r.file).toBeNull();
    expect(r.config).toMatchObject({
      defaultTimezone: 'UTC',
      catchUpWindow: '15m',
      maxConcurrentRuns: 8,
      drivers: {},
    });
    expect(r.catchUpWindowMs).toBe(15 * 60_000);
  });

  it('reads an empty file as all defaults', () => {
    expect(loadEngineConfig(file('# nothing set yet\n'), {}).config.defaultTimezone).toBe('UTC');
  });

  it('lets TASKOPS_* variables override the file, and checks them like the file', () => {
    const f = file('defaultTimezone: Europe/Berlin\nmaxConcurrentRuns: 2\n');
    const r = loadEngineConfig(f, { TASKOPS_MAX_CONCURRENT_RUNS: '6', TASKOPS_CATCH_UP_WINDOW: '1h' });
    expect(r.config).toMatchObject({
      defaultTimezone: 'Europe/Berlin',
      maxConcurrentRuns: 6,
      catchUpWindow: '1h',
    });
    expect(() => loadEngineConfig(undefined, { TASKOPS_MAX_CONCURRENT_RUNS: '0' })).toThrow(
      'engine settings (TASKOPS_* environment): maxConcurrentRuns must be at least 1 (got 0)',
    );
    expect(() => loadEngineConfig(undefined, { TASKOPS_DEFAULT_TIMEZONE: 'Mars/Base' })).toThrow(
      'defaultTimezone: unknown time zone "Mars/Base"',
    );
    expect(() => loadEngineConfig(undefined, { TASKOPS_CATCH_UP_WINDOW: 'soon' })).toThrow('catchUpWindow');
  });

  it('names the file, line and column of a bad setting', () => {
    const f = file('drivers:\n  vms:\n    type: shell\n    actions: {power-on: [virsh, start, "${NAME}"]}\n');
    expect(() => loadEngineConfig(f, {})).toThrow(
      `${f}:3:11: drivers.vms.type must be one of command, noop, vergeos (got string "shell")`,
    );
  });

  it('refuses unknown variables in driver argv templates and redefining built-in drivers', () => {
    const f = file(
      'drivers:\n  webhook: {type: noop, actions: {send: [x]}}\n  vms: {type: command, actions: {power-on: [virsh, "${HOST}"]}}\n',
    );
    let message = '';
    try {
      loadEngineConfig(f, {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('drivers.webhook: webhook is built in and cannot be redefined');
    expect(message).toContain('drivers.vms.actions.power-on[1]: unknown variable ${HOST}');
  });

  it('offers the built-in object types plus the configured drivers to the validator', () => {
    const r = loadEngineConfig(
      file('drivers:\n  vms: {type: command, actions: {power-on: [a], power-off: [b]}}\n'),
      {},
    );
    expect(driverCatalog(r.config)).toEqual({
      webhook: ['send'],
      email: ['send'],
      vms: ['power-on', 'power-off'],
    });
  });

  it('reports a missing named file', () => {
    expect(() => loadEngineConfig('/no/such/taskops.config.yaml', {})).toThrow(
      '/no/such/taskops.config.yaml: engine config file not found',
    );
  });
});
