import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readBlobs } from './blobs.js';
import { SourceError } from './errors.js';
import { gitClient, gitMessage, refuseOptionLike } from './git.js';
import { safeSubdir } from './paths.js';
import type { SourceSnapshot } from './types.js';

export interface ReadTreeOptions {
  /** A path missing at this revision reads as an empty folder instead of an error (the base of a plan). */
  allowMissingPath?: boolean;
}

const MANIFEST_FILE = /\.ya?ml$/i;

/**
 * The manifests of `subdir` at `ref` of a local repository, written to a temporary folder, without touching
 * the working tree or the index. The revision is the commit SHA; call `cleanup()` when done.
 */
export async function readTreeAtRevision(
  repoDir: string,
  ref: string,
  subdir: string,
  opts: ReadTreeOptions = {},
): Promise<SourceSnapshot> {
  refuseOptionLike(ref, 'ref');
  const git = gitClient(repoDir);
  const path = safeSubdir(subdir, { repo: repoDir, ref });
  const where = { repo: repoDir, ref, path: path || '.' };
  let commit: string;
  try {
    commit = (
      await git.raw(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])
    ).trim();
  } catch (err) {
    const detail = gitMessage(err);
    throw new SourceError(
      `ref ${ref} is not a commit in ${repoDir}${detail ? ` (git: ${detail})` : ''}: check the ref (for a pull request's base, fetch it first: git fetch origin <branch>)`,
      where,
      { cause: err },
    );
  }
  if (!commit) throw new SourceError(`ref ${ref} is not a commit in ${repoDir}: check the ref`, where);

  const listing = await git.raw(['ls-tree', '-r', '-z', '--full-tree', commit, '--', path || '.']);
  const entries = listing
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta = '', file = ''] = line.split('\t');
      const [mode, type, sha] = meta.split(' ');
      return { mode, type, sha: sha ?? '', file };
    });
  if (entries.length === 0 && path !== '' && !opts.allowMissingPath) {
    throw new SourceError(
      `path ${path} does not exist in ${repoDir} at ${ref} (${commit.slice(0, 12)}): check PATH`,
      where,
    );
  }

  // Regular blobs only (symlinks and submodules could point outside the tree), and never a path that climbs.
  const files = entries
    .filter((e) => e.type === 'blob' && e.mode !== '120000' && MANIFEST_FILE.test(e.file))
    .map((e) => ({ sha: e.sha, rel: path === '' ? e.file : e.file.slice(path.length + 1) }))
    .filter((f) => !f.rel.split('/').some((part) => part === '..' || part === ''));

  const root = await mkdtemp(join(tmpdir(), 'taskops-tree-'));
  const cleanup = () => rm(root, { recursive: true, force: true });
  try {
    const blobs = await readBlobs(
      repoDir,
      files.map((f) => f.sha),
    );
    for (const f of files) {
      const target = join(root, ...f.rel.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, blobs.get(f.sha) ?? Buffer.alloc(0));
    }
  } catch (err) {
    await cleanup();
    const detail = err instanceof SourceError ? err.message : gitMessage(err);
    throw new SourceError(`could not read ${path || '.'} at ${ref} of ${repoDir}: ${detail}`, where, {
      cause: err,
    });
  }
  return { root, revision: commit, cleanup };
}
