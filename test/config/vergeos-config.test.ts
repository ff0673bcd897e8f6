import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { driverCatalog, loadEngineConfig } from '../../src/config/index.js';
import { runCli } from '../helpers/cli.js';

const dir = () => mkdtempSync(path.join(tmpdir(), 'taskops-vergeos-config-'));
const file = (text: string) => {
  const f = path.join(dir(), 'taskops.config.yaml');
  writeFileSync(f, text);
  return f;
};
const vms = (extra = '') =>
  `drivers:\n  vms:\n    type: vergeos\n    urlFrom: {env: VERGEOS_URL}\n    auth: {tokenFrom: {env: VERGEOS_API_KEY}}\n${extra}`;
const load = (text: string) => () => loadEngineConfig(file(text), {});

describe('the vergeos driver and event source settings', () => {
  it('accepts an API key or a user and password, and offers the four power actions', () => {
    const r = loadEngineConfig(file(vms()), {});
    expect(driverCatalog(r.config).vms).toEqual(['power-on', 'power-off', 'kill', 'reset']);
    expect(
      load(
        'drivers:\n  vms:\n    type: vergeos\n    url: https://vergeos.example.com\n    auth: {username: svc, passwordFrom: {file: /run/secrets/pw}}\n',
      ),
    ).not.toThrow();
  });

  it('refuses a vergeos driver without auth, with both url and urlFrom, or with both kinds of credential', () => {
    expect(load('drivers:\n  vms:\n    type: vergeos\n    url: https://v.example.com\n')).toThrow(/auth/);
    expect(load(vms('    url: https://v.example.com\n'))).toThrow(/invalid engine config/);
    expect(
      load(
        'drivers:\n  vms:\n    type: vergeos\n    url: https://v.example.com\n    auth: {tokenFrom: {env: K}, username: u}\n',
      ),
    ).toThrow(/invalid engine config/);
  });

  it('refuses actions on a vergeos driver: they are fixed', () => {
    expect(load(vms('    actions: {reboot: [x]}\n'))).toThrow(
      /a vergeos driver's actions are fixed \(power-on, power-off, kill, reset\)/,
    );
  });

  it('an event source must name a vergeos driver and poll within half its budget', () => {
    expect(load(`${vms()}eventSources:\n  v:\n    type: vergeos\n    driver: users\n`)).toThrow(
      /eventSources.v.driver: users is not a vergeos driver/,
    );
    expect(
      load(`${vms()}eventSources:\n  v:\n    type: vergeos\n    driver: vms\n    pollInterval: 5s\n`),
    ).toThrow(/costs 1440 requests per hour, more than half of the vms driver's budget \(1000\)/);
    expect(
      load(`${vms()}eventSources:\n  v:\n    type: vergeos\n    driver: vms\n    pollInterval: 30s\n`),
    ).not.toThrow();
  });
});

describe('Tags with membersOf', () => {
  const tag = (spec: string) => `apiVersion: taskops/v1\nkind: Tag\nmetadata: {name: gpu}\nspec: ${spec}\n`;

  it('refuses members and membersOf together, and an event trigger on such a Tag', async () => {
    const d = dir();
    writeFileSync(
      path.join(d, 'tag.yaml'),
      tag('{category: vms, members: [a], membersOf: {vergeos: {tag: GPU}}}'),
    );
    const both = await runCli(['validate', d]);
    expect(both.code).toBe(1);
    expect(both.stdout).toMatch(/a Tag takes members or membersOf, not both/);

    writeFileSync(path.join(d, 'tag.yaml'), tag('{category: vms, membersOf: {vergeos: {tag: GPU}}}'));
    writeFileSync(
      path.join(d, 'trigger.yaml'),
      'apiVersion: taskops/v1\nkind: EventTrigger\nmetadata: {name: t}\nspec: {event: {type: vms, name: power-off, tag: gpu}, tasks: [x]}\n---\napiVersion: taskops/v1\nkind: Task\nmetadata: {name: x}\nspec: {objectType: vms, target: {tag: gpu}, action: power-on}\n',
    );
    const onEvent = await runCli(['validate', d]);
    expect(onEvent.code).toBe(1);
    expect(onEvent.stdout).toMatch(
      /Tag\/gpu takes its members from membersOf at run time, so events cannot be matched against it/,
    );
  });
});
