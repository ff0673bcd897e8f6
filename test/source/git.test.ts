import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheDirFor, GitSource, readTreeAtRevision, SourceError } from '../../src/source/index.js';
import { tempDir, tempRepo, type TempRepo } from '../helpers/git.js';

describe('GitSource', () => {
  let repo: TempRepo;
  let data: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    repo = await tempRepo();
    data = tempDir('taskops-data-');
  });
  afterEach(() => {
    repo.cleanup();
    data.cleanup();
  });

  it('checks out the ref into a cache named by a hash of the repo, with the commit SHA as revision', async () => {
    const sha = await repo.commit('one', { 'manifests/a.yaml': 'a: 1\n' });
    const source = new GitSource({ repo: repo.dir, ref: 'main', path: 'manifests', dataDir: data.dir });
    const snap = await source.fetch();
    expect(snap.revision).toBe(sha);
    expect(snap.root).toBe(join(cacheDirFor(data.dir, repo.dir), 'manifests'));
    expect(source.cacheDir).toMatch(/sources[/\\][0-9a-f]{24}$/);
    expect(readFileSync(join(snap.root, 'a.yaml'), 'utf8')).toBe('a: 1\n');
  });

  it('fetches again on every call and follows the branch to its new commit', async () => {
    await repo.commit('one', { 'a.yaml': 'a: 1\n' });
    const source = new GitSource({ repo: repo.dir, ref: 'main', dataDir: data.dir });
    await (await source.fetch()).cleanup?.();
    const second = await repo.commit('two', { 'a.yaml': 'a: 2\n', 'b.yaml': 'b: 1\n' });
    const snap = await source.fetch();
    expect(snap.revision).toBe(second);
    expect(readFileSync(join(snap.root, 'a.yaml'), 'utf8')).toBe('a: 2\n');
    await snap.cleanup?.();
    await repo.commit('three', { 'b.yaml': null });
    const third = await source.fetch();
    expect(existsSync(join(third.root, 'b.yaml'))).toBe(false);
    await third.cleanup?.();
  });

  it('holds the cache lock from fetch until the snapshot is cleaned up', async () => {
    await repo.commit('one', { 'a.yaml': 'a: 1\n' });
    const source = new GitSource({ repo: repo.dir, ref: 'main', dataDir: data.dir });
    const snap = await source.fetch();
    expect(existsSync(`${source.cacheDir}.lock`)).toBe(true);
    await snap.cleanup?.();
    expect(existsSync(`${source.cacheDir}.lock`)).toBe(false);
  });

  it('fetches shallow: the cache holds only the checked-out commit', async () => {
    await repo.commit('one', { 'a.yaml': 'a: 1\n' });
    await repo.commit('two', { 'a.yaml': 'a: 2\n' });
    const source = new GitSource({ repo: `file://${repo.dir}`, ref: 'main', dataDir: data.dir });
    await (await source.fetch()).cleanup?.();
    expect(existsSync(join(source.cacheDir, '.git', 'shallow'))).toBe(true);
  });

  it('fetches a repository on this machine, by path or file:// URL, without searching for deltas', async () => {
    // 120 near-identical files: over git's unpack limit (kept as a pack) and each one a delta of another.
    const files: Record<string, string> = {};
    const body = Array.from({ length: 200 }, (_, i) => `line ${i} of a long manifest\n`).join('');
    for (let i = 0; i < 120; i++) files[`f${i}.yaml`] = `${body}n: ${i}\n`;
    await repo.commit('many', files);
    for (const url of [repo.dir, `file://${repo.dir}`]) {
      const dataDir = tempDir('taskops-data-');
      try {
        const source = new GitSource({ repo: url, ref: 'main', dataDir: dataDir.dir });
        await (await source.fetch()).cleanup?.();
        const packs = join(source.cacheDir, '.git', 'objects', 'pack');
        const idx = readdirSync(packs).filter((f) => f.endsWith('.idx'));
        expect(idx).toHaveLength(1);
        const verify = await simpleGit(source.cacheDir).raw(['verify-pack', '-v', join(packs, idx[0]!)]);
        expect(verify).toMatch(/^non delta: \d+ objects/m);
        expect(verify).not.toMatch(/chain length/);
      } finally {
        dataDir.cleanup();
      }
    }
  });

  it('fails clearly, naming the repo, when the remote is unreachable', async () => {
    const missing = join(data.dir, 'no-such-repo');
    const err = await new GitSource({ repo: missing, ref: 'main', dataDir: data.dir })
      .fetch()
      .catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toContain(`could not fetch ${missing}`);
    expect(err.where).toMatchObject({ repo: missing, ref: 'main' });
  });

  it('fails clearly, naming the ref, when the ref does not exist', async () => {
    await repo.commit('one', { 'a.yaml': 'a: 1\n' });
    const err = await new GitSource({ repo: repo.dir, ref: 'no-such-branch', dataDir: data.dir })
      .fetch()
      .catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toContain(`ref no-such-branch was not found in ${repo.dir}`);
  });

  it('fails clearly, naming the path, when the manifest folder is not in the repo', async () => {
    await repo.commit('one', { 'a.yaml': 'a: 1\n' });
    const err = await new GitSource({
      repo: repo.dir,
      ref: 'main',
      path: 'deploy/manifests',
      dataDir: data.dir,
    })
      .fetch()
      .catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toContain('path deploy/manifests does not exist');
  });

  it('refuses a --ref or --repo that git would read as an option', () => {
    expect(
      () => new GitSource({ repo: repo.dir, ref: '--upload-pack=touch /tmp/x', dataDir: data.dir }),
    ).toThrow(/--ref .* must not start with "-"/);
    expect(() => new GitSource({ repo: '--help', dataDir: data.dir })).toThrow(
      /--repo .* must not start with "-"/,
    );
  });

  it('refuses a --path that climbs out of the repository', () => {
    expect(() => new GitSource({ repo: repo.dir, path: '../../etc', dataDir: data.dir })).toThrow(
      /inside the repository/,
    );
  });
});

describe('readTreeAtRevision', () => {
  let repo: TempRepo;
  beforeEach(async () => (repo = await tempRepo()));
  afterEach(() => repo.cleanup());

  it('writes the manifests of a subfolder at a revision to a temp dir, leaving the working tree alone', async () => {
    const first = await repo.commit('one', {
      'manifests/a.yaml': 'a: 1\n',
      'manifests/sub/b.yml': 'b: 1\n',
      'manifests-old/c.yaml': 'c\n',
      'README.md': 'x',
    });
    await repo.commit('two', { 'manifests/a.yaml': 'a: 2\n' });
    const snap = await readTreeAtRevision(repo.dir, first, 'manifests');
    try {
      expect(snap.revision).toBe(first);
      expect(readFileSync(join(snap.root, 'a.yaml'), 'utf8')).toBe('a: 1\n');
      expect(readFileSync(join(snap.root, 'sub', 'b.yml'), 'utf8')).toBe('b: 1\n');
      expect(readdirSync(snap.root).sort()).toEqual(['a.yaml', 'sub']);
      expect(readFileSync(join(repo.dir, 'manifests', 'a.yaml'), 'utf8')).toBe('a: 2\n');
      expect((await repo.git.status()).isClean()).toBe(true);
    } finally {
      await snap.cleanup?.();
    }
    expect(existsSync(snap.root)).toBe(false);
  });

  it('reads a path missing at the revision as an empty folder when allowed, else fails naming it', async () => {
    const first = await repo.commit('empty start');
    await repo.commit('add', { 'manifests/a.yaml': 'a: 1\n' });
    const snap = await readTreeAtRevision(repo.dir, first, 'manifests', { allowMissingPath: true });
    expect(readdirSync(snap.root)).toEqual([]);
    await snap.cleanup?.();
    await expect(readTreeAtRevision(repo.dir, first, 'manifests')).rejects.toThrow(
      /path manifests does not exist/,
    );
  });

  it('fails with a SourceError for a ref that is not a commit', async () => {
    await repo.commit('one', { 'a.yaml': 'a: 1\n' });
    await expect(readTreeAtRevision(repo.dir, 'origin/nope', '.')).rejects.toThrow(
      /ref origin\/nope is not a commit/,
    );
  });
});
