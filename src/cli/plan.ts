import { existsSync, realpathSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { asLive, diff, loadDesired, withFirings, withRefusal, type PlanWarning } from '../reconcile/index.js';
import { gitClient, readTreeAtRevision, SourceError, type SourceSnapshot } from '../source/index.js';
import {
  engineConfig,
  optionalCatalog,
  optionalSecretPolicy,
  parseOutputFormat,
  stdoutPalette,
} from './context.js';
import { CliError, EXIT } from './exit.js';
import { asCliError, renderPlan, warnRefusal } from './reconcile.js';

const FORMATS = ['text', 'json', 'markdown'] as const;

export interface PlanOptions {
  base: string;
  head: string;
  output: string;
  detailedExitcode?: boolean;
  autoSync?: string;
}

/** The repository holding PATH (or the current folder), and PATH as a folder inside it. */
async function locate(path: string): Promise<{ top: string; subdir: string }> {
  const abs = resolve(path);
  const from = existsSync(abs) && statSync(abs).isDirectory() ? abs : process.cwd();
  let top: string;
  try {
    top = (await gitClient(from).revparse(['--show-toplevel'])).trim();
  } catch {
    throw new SourceError(
      `${from} is not inside a git repository: run taskops plan from a clone of the manifest repo`,
      {
        path,
      },
    );
  }
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : p);
  const subdir = relative(real(top), real(abs)).split(sep).join('/');
  if (subdir.startsWith('..'))
    throw new SourceError(`${path} is outside the repository at ${top}`, { repo: top, path });
  return { top, subdir };
}

/** Files below the manifest folder with uncommitted changes (staged, unstaged or untracked). */
async function uncommittedManifests(top: string, subdir: string): Promise<string[]> {
  const status = await gitClient(top).raw([
    'status',
    '--porcelain',
    '--untracked-files=all',
    '--',
    subdir || '.',
  ]);
  return status
    .split('\n')
    .filter((line) => line.length > 3)
    .map((line) => line.slice(3))
    .filter((file) => /\.ya?ml$/.test(file));
}

function dirtyWarning(files: string[]): PlanWarning {
  const shown = files.slice(0, 5).join(', ') + (files.length > 5 ? `, … (${files.length} in all)` : '');
  return {
    object: null,
    message:
      `the working tree has uncommitted manifest changes (${shown}) that this plan does not include: ` +
      '--head HEAD is the last commit; commit them to see them in the plan',
  };
}

export async function planAction(path: string, opts: PlanOptions, cmd: Command): Promise<void> {
  const format = parseOutputFormat(opts.output, FORMATS);
  const resolved = engineConfig(cmd);
  const config = resolved.config;
  const snaps: SourceSnapshot[] = [];
  try {
    const { top, subdir } = await locate(path);
    const base = await readTreeAtRevision(top, opts.base, subdir, { allowMissingPath: true });
    snaps.push(base);
    const head = await readTreeAtRevision(top, opts.head, subdir);
    snaps.push(head);
    const common = {
      driverCatalog: optionalCatalog(resolved),
      defaultZone: config.defaultTimezone,
      displayRoot: subdir || '.',
    };
    // Secrets are checked on the change only: a base that a new allowlist refuses can still be compared against.
    const headState = await loadDesired(head.root, {
      ...common,
      now: new Date(),
      secretPolicy: optionalSecretPolicy(resolved),
      revision: head.revision,
    });
    const baseState = await loadDesired(base.root, { ...common, revision: base.revision }).catch(
      (err: unknown) => {
        throw new CliError(
          `the manifests at --base ${opts.base} (${base.revision.slice(0, 12)}) are invalid, so there is nothing sound to compare against:\n` +
            (err instanceof Error ? err.message : String(err)),
        );
      },
    );
    const live = asLive(baseState);
    const firingOpts = { now: new Date(), defaultZone: config.defaultTimezone ?? 'UTC' };
    const planned = withRefusal(withFirings(diff(headState, live), headState, live, firingOpts));
    const dirty = opts.head === 'HEAD' ? await uncommittedManifests(top, subdir) : [];
    const plan =
      dirty.length === 0 ? planned : { ...planned, warnings: [dirtyWarning(dirty), ...planned.warnings] };
    warnRefusal(plan, format);
    const review = {
      base: base.revision,
      head: head.revision,
      ...(opts.autoSync ? { autoSync: opts.autoSync } : {}),
    };
    process.stdout.write(renderPlan(plan, format, stdoutPalette(cmd), { review }));
    process.exitCode = opts.detailedExitcode && plan.changes.length > 0 ? EXIT.changesPending : EXIT.ok;
  } catch (err) {
    throw asCliError(err, false);
  } finally {
    for (const s of snaps) await s.cleanup?.();
  }
}
