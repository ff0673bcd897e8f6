import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { doc } from '../helpers/engine.js';
import { tempDir } from '../helpers/git.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { until } from '../helpers/wait.js';

let work: { dir: string; cleanup: () => void };
let server: ServeProcess | undefined;
afterEach(async () => {
  await server?.kill('SIGKILL');
  server = undefined;
  work.cleanup();
});

interface Status {
  objects: { Tag: { total: number } };
  sync: { pending: { create: number } | null; lastError: { problems: string[] } | null };
}

const tag = (name: string) => doc('Tag', name, { category: 'vms', members: ['vm-1'] });

async function status(url: string): Promise<Status> {
  return (await (await fetch(`${url}/api/v1/status`)).json()) as Status;
}

/** `taskops serve` on a new folder holding Tag/first; returns the folder. */
async function serveFolder(...serveArgs: string[]): Promise<string> {
  work = tempDir('taskops-folder-');
  const manifests = path.join(work.dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(path.join(manifests, 'a.yaml'), tag('first'));
  server = await startServe({
    globalArgs: ['--data-dir', path.join(work.dir, 'data')],
    serveArgs: [manifests, ...serveArgs],
  });
  return manifests;
}

describe('taskops serve on a plain folder', () => {
  it('applies an edit within a second (watched, debounced) and reports a broken file with its location', async () => {
    const manifests = await serveFolder('--poll-interval', '1h');
    expect((await status(server!.url)).objects.Tag.total).toBe(1);
    const edited = Date.now();
    writeFileSync(path.join(manifests, 'b.yaml'), tag('second'));
    await until(
      async () => (await status(server!.url)).objects.Tag.total === 2,
      'the new file to be applied',
      5000,
    );
    expect(Date.now() - edited).toBeLessThan(1500);

    writeFileSync(
      path.join(manifests, 'c.yaml'),
      'apiVersion: taskops/v1\nkind: Tag\nmetadata: {name: third}\nspec: {}\n',
    );
    await until(
      async () => (await status(server!.url)).sync.lastError !== null,
      'the broken file to be refused',
      5000,
    );
    const s = await status(server!.url);
    expect(s.sync.lastError!.problems).toEqual([
      `${path.join(manifests, 'c.yaml')}:4:7: Tag/third: spec.category is required`,
    ]);
    expect(s.objects.Tag.total).toBe(2);
  });

  it('with --no-auto-apply only reports the pending plan', async () => {
    await serveFolder('--no-auto-apply');
    const s = await status(server!.url);
    expect(s.objects.Tag.total).toBe(0);
    expect(s.sync.pending).toEqual({ create: 1, update: 0, delete: 0 });
  });
});
