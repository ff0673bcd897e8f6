import { createHash } from 'node:crypto';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { splitRemote } from './credentials.js';
import { SourceError } from './errors.js';

/** A local repository path made absolute; URLs (scheme:// or user@host:path) stay as they are. */
export function normalizeRepo(repo: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\\]+@[^/\\]+:/.test(repo)) return repo;
  return resolve(repo);
}

/**
 * The cache folder of one repository: a hash, so nothing from the input becomes a path component, of the URL
 * without its credential, so a new token reuses the cache.
 */
export function cacheDirFor(dataDir: string, repo: string): string {
  return join(resolve(dataDir), 'sources', hashId(splitRemote(normalizeRepo(repo)).url));
}

/** Where earlier versions kept that cache: named by the URL as given, credential included. */
export function legacyCacheDirFor(dataDir: string, repo: string): string {
  return join(resolve(dataDir), 'sources', hashId(normalizeRepo(repo)));
}

const hashId = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);

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
