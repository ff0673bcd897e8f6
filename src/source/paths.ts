import { createHash } from 'node:crypto';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { SourceError } from './errors.js';

/** A local repository path made absolute; URLs (scheme:// or user@host:path) stay as they are. */
export function normalizeRepo(repo: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\\]+@[^/\\]+:/.test(repo)) return repo;
  return resolve(repo);
}

/** The cache folder of one repository: a hash, so nothing from the input becomes a path component. */
export function cacheDirFor(dataDir: string, repo: string): string {
  const id = createHash('sha256').update(normalizeRepo(repo)).digest('hex').slice(0, 24);
  return join(resolve(dataDir), 'sources', id);
}

/** A repository subfolder, checked to stay inside the checkout: relative, no `..` out of it. */
export function safeSubdir(subdir: string, where: { repo?: string; ref?: string }): string {
  const trimmed = subdir.trim() === '' ? '.' : subdir;
  const norm = normalize(trimmed);
  if (isAbsolute(norm) || norm === '..' || norm.startsWith(`..${sep}`)) {
    throw new SourceError(`--path ${subdir} must be a folder inside the repository (relative, no ..)`, {
      ...where,
      path: subdir,
    });
  }
  return norm === '.' ? '' : norm.split(sep).join('/');
}

/** True when `child` is `parent` or below it. */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
