import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { doc, docs } from '../helpers/engine.js';
import { tempDir } from '../helpers/git.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

let work: { dir: string; cleanup: () => void };
let server: ServeProcess | undefined;
afterEach(async () => {
  await server?.kill('SIGKILL');
  server = undefined;
  work.cleanup();
});

interface Status {
  objects: { Tag: { total: number }; Schedule: { total: number } };
}

describe('taskops serve restarting on an unchanged revision', () => {
  it('takes the validated state from the cache, serves the same objects, and validates again after an edit', async () => {
    work = tempDir('taskops-serve-cache-');
    const manifests = path.join(work.dir, 'manifests');
    mkdirSync(manifests);
    const files = {
      'a.yaml': docs(
        doc('Tag', 'gpu', { category: 'vms', members: ['vm-1'] }),
        doc('Schedule', 'nightly', { cron: '0 3 * * *' }),
        doc('Task', 'off', {
          objectType: 'vms',
          action: 'power-off',
          target: { tag: 'gpu' },
          schedules: ['nightly'],
        }),
      ),
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(manifests, name), text);
    const config = path.join(work.dir, 'taskops.config.yaml');
    writeFileSync(config, 'drivers:\n  vms: { type: noop, actions: { power-off: [unused] } }\n');
    const start = () =>
      startServe({
        globalArgs: ['--config', config, '--data-dir', path.join(work.dir, 'data')],
        serveArgs: [manifests, '--poll-interval', '1h'],
        logLevel: 'debug',
      });
    const stop = async () => {
      expect(await server!.kill('SIGTERM')).toBe(0);
      const output = server!.output();
      server = undefined;
      return output;
    };

    server = await start();
    expect(await stop()).toMatch(/validated revision cache miss/);

    server = await start();
    const status = (await (await fetch(`${server.url}/api/v1/status`)).json()) as Status;
    expect(status.objects.Tag.total).toBe(1);
    expect(status.objects.Schedule.total).toBe(1);
    const restarted = await stop();
    expect(restarted).toMatch(/validated revision cache hit/);
    expect(restarted).not.toMatch(/validated revision cache miss/);

    writeFileSync(path.join(manifests, 'b.yaml'), doc('Tag', 'cpu', { category: 'vms', members: ['vm-2'] }));
    server = await start();
    const edited = (await (await fetch(`${server.url}/api/v1/status`)).json()) as Status;
    expect(edited.objects.Tag.total).toBe(2);
    expect(await stop()).toMatch(
      /"reason":"the manifests or the engine config changed","msg":"validated revision cache miss"/,
    );
  });
});
