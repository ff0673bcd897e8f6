import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { driverCatalog } from '../../src/config/index.js';
import { secretPolicy } from '../../src/manifest/index.js';
import type { GitOpsLoop } from '../../src/server/gitops.js';
import { FolderSource } from '../../src/source/index.js';
import { engineFixture, type EngineFixture } from '../helpers/engine.js';
import { fixtureLoop, fixtureServer } from '../helpers/server.js';

const EXAMPLES = path.resolve('examples');

let fixture: EngineFixture;
let loop: GitOpsLoop;
let app: FastifyInstance;
let base: string;

beforeEach(async () => {
  const config = parse(readFileSync(path.join(EXAMPLES, 'taskops.config.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  fixture = await engineFixture({ manifests: {}, config });
  loop = fixtureLoop(fixture, new FolderSource(EXAMPLES), {
    driverCatalog: driverCatalog(fixture.config.config),
    secretPolicy: secretPolicy(fixture.config.config.secrets),
    displayRoot: 'examples',
  });
  app = fixtureServer(fixture, { apiToken: null, sync: loop });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterEach(async () => {
  await app.close();
  await loop.stop();
  await fixture.close();
});

const get = async <T>(p: string): Promise<T> => {
  const res = await fetch(`${base}${p}`);
  expect(res.status, p).toBe(200);
  return (await res.json()) as T;
};
type Named = { name: string; source?: { file: string; line: number } };
const byName = (list: Named[]) => Object.fromEntries(list.map((o) => [o.name, o.source]));

describe("the listings carry each object's file:line from the last applied revision", () => {
  it("serves source on the examples' tasks, schedules, triggers, webhooks and tags", async () => {
    expect((await loop.syncNow()).outcome).toBe('applied');
    const tasks = byName((await get<{ tasks: Named[] }>('/api/v1/tasks')).tasks);
    expect(tasks['power-on-gpu-vms']).toEqual({ file: 'examples/gpu-vms/tasks.yaml', line: 2 });
    expect(tasks['power-off-gpu-vms']).toEqual({ file: 'examples/gpu-vms/tasks.yaml', line: 12 });
    expect(tasks['slack-sync-error']?.file).toBe('examples/sync-alerts/tasks.yaml');
    const schedules = byName((await get<{ schedules: Named[] }>('/api/v1/schedules')).schedules);
    expect(schedules['friday-6pm']).toEqual({ file: 'examples/gpu-vms/schedule.yaml', line: 2 });
    const objects = (await get<{ objects: Array<Named & { kind: string }> }>('/api/v1/objects')).objects;
    expect(objects.length).toBeGreaterThan(5);
    for (const o of objects)
      expect(o.source, `${o.kind}/${o.name}`).toMatchObject({ line: expect.any(Number) });
    const of = (kind: string, name: string) =>
      objects.find((o) => o.kind === kind && o.name === name)?.source;
    expect(of('Webhook', 'slack-ops')?.file).toBe('examples/sync-alerts/webhook.yaml');
    expect(of('EventTrigger', 'jthompson-logout')?.file).toBe('examples/gpu-vms/triggers.yaml');
    expect(of('Tag', 'JThompson-GPU')?.file).toBe('examples/gpu-vms/tag.yaml');
    // Where the object really is: the named line of the file is its document's start.
    const lines = readFileSync(path.join(EXAMPLES, 'gpu-vms/tasks.yaml'), 'utf8').split('\n');
    expect(lines[11]).toBe('apiVersion: taskops/v1');
    expect(lines.slice(11, 16).join('\n')).toContain('name: power-off-gpu-vms');
  });

  it('has no source for an object made through the API, nor before the first sync', async () => {
    expect((await get<{ tasks: Named[] }>('/api/v1/tasks')).tasks.every((t) => !t.source)).toBe(true);
    await loop.syncNow();
    const res = await fetch(`${base}/api/v1/objects/Tag/by-hand`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { category: 'vms', members: ['vm-9'] } }),
    });
    expect(res.status).toBe(201);
    const tags = (await get<{ objects: Named[] }>('/api/v1/objects?kind=Tag')).objects;
    expect(byName(tags)['by-hand']).toBeUndefined();
    expect(byName(tags)['JThompson-GPU']?.line).toEqual(expect.any(Number));
  });
});
