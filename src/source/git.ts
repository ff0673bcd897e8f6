import { existsSync } from 'node:fs';
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { credentialOptions, splitRemote, type Remote } from './credentials.js';
import { SourceError } from './errors.js';
import { acquireLock, type LockClock } from './lock.js';
import { cacheDirFor, isInside, legacyCacheDirFor, normalizeRepo, safeSubdir } from './paths.js';
import type { Source, SourceSnapshot } from './types.js';

export interface GitSourceOptions {
  /** A URL or a local repository path. */
  repo: string;
  /** Branch, tag or commit (default: the remote's HEAD). */
  ref?: string;
  /** The manifest folder inside the repository (default: its root). */
  path?: string;
  /** The cache lives in `<dataDir>/sources/<hash of the repo>`. */
  dataDir: string;
  /** Longest a git command may take before it is stopped (default 120 s). */
  timeoutMs?: number;
  /** The time the cache lock waits on (default: wall time; tests pass a ManualClock). */
  clock?: LockClock;
}

/** Variables that only matter to interactive git (editors, pagers, external diffs): never needed here. */
const INTERACTIVE_ONLY = new Set([
  'editor',
  'git_editor',
  'git_sequence_editor',
  'pager',
  'git_pager',
  'git_external_diff',
]);

/**
 * The operator's environment (SSH keys, proxies, askpass helpers stay usable), minus interactive-only
 * variables; never a password prompt, since CI and `serve` have no one to answer it; C locale, because
 * errors are recognized by git's English messages.
 */
function gitEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !INTERACTIVE_ONLY.has(k.toLowerCase())) env[k] = v;
  return { ...env, GIT_TERMINAL_PROMPT: '0', GCM_INTERACTIVE: 'never', LC_ALL: 'C' };
}

/** `extraEnv`: variables for this client's commands only (a fetch's credential). */
export function gitClient(
  baseDir: string,
  timeoutMs = 120_000,
  extraEnv: Record<string, string> = {},
): SimpleGit {
  return simpleGit({
    baseDir,
    timeout: { block: timeoutMs },
    // These come from the operator's own environment, not from manifests or flags.
    unsafe: {
      allowUnsafeSshCommand: true,
      allowUnsafeAskPass: true,
      allowUnsafeGitProxy: true,
      allowUnsafeConfigPaths: true,
      // Only the fetch sets one: ours, reading the credential from extraEnv (see credentials.ts).
      allowUnsafeCredentialHelper: true,
      // Only the fetch from a local repository sets one: LOCAL_UPLOAD_PACK, a constant.
      allowUnsafePack: true,
    },
  }).env({ ...gitEnv(), ...extraEnv });
}

/**
 * For a repository on this machine git runs the sending side too, and by default it searches for deltas to
 * make the pack small for a network: ≈ 0.7 s of a 100,000-schedule repo's first fetch, for a pack unpacked a
 * moment later on the same disk. A constant of ours, never from a manifest or a flag.
 */
const LOCAL_UPLOAD_PACK = '--upload-pack=git -c pack.window=0 upload-pack';

/** A local path (made absolute by normalizeRepo) or a file:// URL: git's local transport. */
function isLocalRemote(url: string): boolean {
  return url.startsWith('/') || /^file:\/\//i.test(url);
}

/** A ref or repository given on the command line must never be read by git as an option. */
export function refuseOptionLike(value: string, flag: string): void {
  if (value.startsWith('-'))
    throw new SourceError(`${flag} ${value} is not valid: it must not start with "-"`, {});
}

/**
 * A git repository as a source: a cached clone under the data dir, fetched on every `fetch()` (shallow when
 * the remote allows), checked out at the ref's commit. The revision is the commit SHA. A credential in the
 * URL is given to git per fetch, never stored; `repo` shows it as `***`.
 */
export class GitSource implements Source {
  /** The repository for messages: its credential, if any, as `***`. */
  readonly repo: string;
  readonly ref: string;
  readonly subdir: string;
  readonly cacheDir: string;
  private readonly remote: Remote;

  constructor(private readonly opts: GitSourceOptions) {
    refuseOptionLike(opts.repo, '--repo');
    if (opts.ref !== undefined) refuseOptionLike(opts.ref, '--ref');
    this.remote = splitRemote(normalizeRepo(opts.repo));
    this.repo = this.remote.display;
    this.ref = opts.ref ?? 'HEAD';
    this.subdir = safeSubdir(opts.path ?? '', { repo: this.repo, ref: this.ref });
    this.cacheDir = cacheDirFor(opts.dataDir, opts.repo);
  }

  describe(): string {
    return `${this.repo}@${this.ref}${this.subdir ? `:${this.subdir}` : ''}`;
  }

  /** The snapshot holds the cache's lock until its `cleanup()`: read it, then call cleanup. */
  async fetch(): Promise<SourceSnapshot> {
    await mkdir(dirname(this.cacheDir), { recursive: true });
    const release = await acquireLock(
      `${this.cacheDir}.lock`,
      `the cache of ${this.repo}`,
      this.opts.timeoutMs ?? 120_000,
      this.opts.clock,
    );
    try {
      await this.removeLegacyCache();
      const git = await this.cache();
      await this.fetchRef(git);
      try {
        await git.raw(['-c', 'advice.detachedHead=false', 'checkout', '--force', '--detach', 'FETCH_HEAD']);
        await git.raw(['clean', '-ffdxq']);
      } catch (err) {
        throw this.error(`could not check out ${this.ref} of ${this.repo} in ${this.cacheDir}`, err);
      }
      const revision = (await git.revparse(['HEAD'])).trim();
      return { root: await this.manifestRoot(), revision, cleanup: async () => release() };
    } catch (err) {
      release();
      throw err;
    }
  }

  private async cache(): Promise<SimpleGit> {
    try {
      await mkdir(this.cacheDir, { recursive: true });
      const git = gitClient(this.cacheDir, this.opts.timeoutMs);
      if (!existsSync(join(this.cacheDir, '.git'))) {
        await git.init();
        await git.addRemote('origin', this.remote.url);
        // Also rewrites a remote URL that still holds a credential.
      } else await git.remote(['set-url', 'origin', this.remote.url]);
      return git;
    } catch (err) {
      throw this.error(`could not prepare the cache of ${this.repo} in ${this.cacheDir}`, err);
    }
  }

  /**
   * Earlier versions named the cache by the URL as given and kept its credential in `.git/config`: that cache
   * is removed (a fresh fetch replaces it), so no token stays on disk.
   */
  private async removeLegacyCache(): Promise<void> {
    const legacy = legacyCacheDirFor(this.opts.dataDir, this.opts.repo);
    if (legacy === this.cacheDir || !existsSync(legacy)) return;
    const release = await acquireLock(
      `${legacy}.lock`,
      `the old cache of ${this.repo}`,
      this.opts.timeoutMs ?? 120_000,
    );
    try {
      await rm(legacy, { recursive: true, force: true });
    } finally {
      release();
    }
  }

  /** Shallow first; some servers (and old ones for a commit SHA) refuse it, so a full fetch is the fallback. */
  private async fetchRef(cache: SimpleGit): Promise<void> {
    const { args, env } = credentialOptions(this.remote);
    const git = args.length > 0 ? gitClient(this.cacheDir, this.opts.timeoutMs, env) : cache;
    const local = isLocalRemote(this.remote.url) ? [LOCAL_UPLOAD_PACK] : [];
    let first: unknown;
    try {
      await git.raw([...args, 'fetch', ...local, '--depth', '1', '--no-tags', 'origin', this.ref]);
      return;
    } catch (err) {
      first = err;
    }
    if (!isMissingRef(first)) {
      try {
        await git.raw([...args, 'fetch', ...local, '--no-tags', 'origin', this.ref]);
        return;
      } catch (err) {
        first = err;
      }
    }
    if (isMissingRef(first)) {
      throw this.error(
        `ref ${this.ref} was not found in ${this.repo}: check --ref (a branch, tag or commit that exists on the remote)`,
        first,
      );
    }
    throw this.error(
      `could not fetch ${this.repo}: the repository is unreachable or access was refused; check --repo, the network and credentials`,
      first,
    );
  }

  private async manifestRoot(): Promise<string> {
    const root = join(this.cacheDir, this.subdir);
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new SourceError(
        `path ${this.subdir || '.'} does not exist in ${this.repo} at ${this.ref}: check --path`,
        this.where(),
      );
    }
    // A symlink in the repository must not lead the loader outside the checkout.
    if (!isInside(await realpath(this.cacheDir), await realpath(root))) {
      throw new SourceError(`path ${this.subdir} in ${this.repo} leads outside the repository`, this.where());
    }
    return root;
  }

  private where() {
    return { repo: this.repo, ref: this.ref, path: this.subdir || '.' };
  }

  private error(message: string, cause: unknown): SourceError {
    const detail = gitMessage(cause);
    return new SourceError(detail ? `${message} (git: ${detail})` : message, this.where(), { cause });
  }

  /** Removes the cached clone. */
  async clearCache(): Promise<void> {
    await rm(this.cacheDir, { recursive: true, force: true });
  }
}

const isMissingRef = (err: unknown): boolean =>
  /couldn't find remote ref|no such remote ref|not our ref|invalid refspec|unadvertised object/i.test(
    gitMessage(err),
  );

/** The last meaningful line of git's stderr. */
export function gitMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err ?? '');
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^hint:/.test(l));
  const fatal = lines.find((l) => /^(fatal|error):/.test(l));
  return (fatal ?? lines[lines.length - 1] ?? '').replace(/^(fatal|error):\s*/, '');
}
