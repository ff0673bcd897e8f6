import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderSource, SourceError } from '../../src/source/index.js';
import { tempDir } from '../helpers/git.js';

describe('FolderSource', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir('taskops-folder-')));
  afterEach(() => tmp.cleanup());

  it('names the revision after the absolute path and a short hash of the manifest contents', async () => {
    writeFileSync(join(tmp.dir, 'a.yaml'), 'x: 1\n');
    const snap = await new FolderSource(tmp.dir).fetch();
    expect(snap.root).toBe(tmp.dir);
    expect(snap.revision).toMatch(new RegExp(`^path:${tmp.dir.replace(/[/\\.]/g, '\\$&')}@[0-9a-f]{12}$`));
  });

  it('changes the revision when a manifest changes, and only then', async () => {
    writeFileSync(join(tmp.dir, 'a.yaml'), 'x: 1\n');
    const source = new FolderSource(tmp.dir);
    const first = (await source.fetch()).revision;
    writeFileSync(join(tmp.dir, 'README.md'), 'not a manifest');
    mkdirSync(join(tmp.dir, '.git'));
    writeFileSync(join(tmp.dir, '.git', 'x.yaml'), 'ignored: true');
    expect((await source.fetch()).revision).toBe(first);
    writeFileSync(join(tmp.dir, 'a.yaml'), 'x: 2\n');
    expect((await source.fetch()).revision).not.toBe(first);
  });

  it('fails with a SourceError naming a folder that does not exist', async () => {
    const missing = join(tmp.dir, 'nope');
    await expect(new FolderSource(missing).fetch()).rejects.toThrow(SourceError);
    await expect(new FolderSource(missing).fetch()).rejects.toThrow(
      `manifest folder ${missing} does not exist`,
    );
  });
});
