import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { escapeControl, escapeControlKeepingLines, ManifestError } from '../manifest/index.js';
import {
  PlanSafetyError,
  planHasChanges,
  reconcileOnce,
  renderJson,
  renderMarkdown,
  renderText,
  readSavedPlan,
  savePlan,
  savedPlanText,
  type Plan,
  type ReviewContext,
  type SavedPlan,
  type SavedPlanSource,
  type ReconcileOutcome,
} from '../reconcile/index.js';
import { FolderSource, GitSource, SourceError, type Source } from '../source/index.js';
import { openSelectedStore, StoreError } from '../store/index.js';
import {
  engineConfig,
  globalOptions,
  optionalCatalog,
  optionalSecretPolicy,
  parseOutputFormat,
  stdoutPalette,
} from './context.js';
import { openDryRunStore, openOneShotStore } from './data-dir.js';
import { storeUrl } from './store.js';
import { CliError, EXIT } from './exit.js';
import { callServer } from './http-client.js';
import type { Palette } from './output.js';
import type { SyncOutcome } from '../server/types.js';

const FORMATS = ['text', 'json', 'markdown'] as const;
type Format = (typeof FORMATS)[number];

export interface ReconcileOptions {
  dryRun?: boolean;
  detailedExitcode?: boolean;
  allowDeleteAll?: boolean;
  maxDeleteShare?: number;
  output: string;
  repo?: string;
  ref?: string;
  path?: string;
  server?: string;
  apiTokenFile?: string;
  out?: string;
  plan?: string;
}

/** Renders a plan in the chosen format; its refusal and warnings are part of it in every format. */
export function renderPlan(
  plan: Plan,
  format: Format,
  c: Palette,
  opts: { applied?: boolean; review?: ReviewContext } = {},
): string {
  if (format === 'json') return renderJson(plan, { applied: opts.applied ?? false });
  if (format === 'markdown') return renderMarkdown(plan, opts.review ? { review: opts.review } : {});
  return renderText(plan, { palette: c, applied: opts.applied ?? false });
}

/** Turns the core's typed errors into CLI errors (exit 1), with what was (not) changed. */
export function asCliError(err: unknown, applying: boolean): unknown {
  const suffix = applying ? '\nNothing was applied.' : '';
  if (err instanceof ManifestError) return new CliError(`${err.message}${suffix}`);
  if (err instanceof SourceError || err instanceof PlanSafetyError || err instanceof StoreError) {
    return new CliError(`${err.message}${suffix}`);
  }
  return err;
}

export function chooseSource(path: string | undefined, opts: ReconcileOptions, dataDir: string): Source {
  if (opts.repo) {
    if (path !== undefined)
      throw new CliError('give either PATH or --repo (with --path SUBDIR), not both', EXIT.usage);
    return new GitSource({ repo: opts.repo, ref: opts.ref, path: opts.path, dataDir });
  }
  if (opts.ref !== undefined || opts.path !== undefined) {
    throw new CliError('--ref and --path go with --repo; for a plain folder give PATH', EXIT.usage);
  }
  return new FolderSource(path ?? '.');
}

/** How problems name files: as the user gave the folder, or the repository's subfolder. */
export function displayRoot(source: Source, path: string | undefined): string {
  return source instanceof GitSource ? source.subdir || '.' : (path ?? '.');
}

export async function reconcileAction(
  path: string | undefined,
  opts: ReconcileOptions,
  cmd: Command,
): Promise<void> {
  const format = parseOutputFormat(opts.output, FORMATS);
  if (opts.server) return syncServer(path, opts, format);
  const { dataDir } = globalOptions(cmd);
  const resolved = engineConfig(cmd);
  const dryRun = opts.dryRun ?? false;
  checkPlanFlags(opts, dryRun);
  const saved = opts.plan === undefined ? undefined : readPlanFile(opts.plan);
  // A saved plan reads its manifests from where it was made, unless PATH or --repo says otherwise.
  const fromSaved = saved && path === undefined && !opts.repo ? sourceOptions(saved.source) : null;
  const source = fromSaved
    ? chooseSource(fromSaved.path, { ...opts, ...fromSaved.opts }, dataDir)
    : chooseSource(path, opts, dataDir);
  const safety = { allowDeleteAll: opts.allowDeleteAll ?? false, maxDeleteShare: opts.maxDeleteShare };
  // A dry run only reads; an apply holds the data dir, so it never writes beside a running serve.
  const store = dryRun
    ? storeUrl(cmd)
      ? await openSelectedStore({ dataDir, url: storeUrl(cmd) }).catch((err: unknown) => {
          throw asCliError(err, false);
        })
      : await openDryRunStore(dataDir)
    : await openOneShotStore(
        dataDir,
        'reconcile',
        'It applies its own source: commit the change there, then have it sync now with taskops reconcile --server URL.',
        storeUrl(cmd),
      );
  let outcome: ReconcileOutcome;
  try {
    outcome = await reconcileOnce(
      source,
      store,
      { now: () => new Date() },
      {
        dataDir,
        mode: dryRun ? 'plan' : 'apply',
        record: !dryRun,
        safety,
        ...(saved ? { savedPlan: saved } : {}),
        load: {
          driverCatalog: optionalCatalog(resolved),
          secretPolicy: optionalSecretPolicy(resolved),
          defaultZone: resolved.config.defaultTimezone,
          displayRoot: displayRoot(source, fromSaved ? fromSaved.path : path),
        },
      },
    );
  } catch (err) {
    throw asCliError(err, !dryRun);
  } finally {
    await store.close();
  }
  if (opts.out !== undefined && outcome.plan !== null && outcome.generation !== null) {
    const where: SavedPlanSource = opts.repo
      ? {
          repo: opts.repo,
          ...(opts.ref ? { ref: opts.ref } : {}),
          ...(opts.path ? { subdir: opts.path } : {}),
        }
      : { path: resolve(path ?? '.') };
    writeFileSync(opts.out, savedPlanText(savePlan(outcome.plan, outcome.generation, outcome.at, where)));
  }
  report(outcome, { format, dryRun, detailedExitcode: opts.detailedExitcode ?? false }, stdoutPalette(cmd));
  if (opts.out !== undefined && outcome.plan !== null)
    process.stderr.write(
      `taskops: plan saved to ${opts.out}; apply exactly it with taskops reconcile --plan ${opts.out}\n`,
    );
}

function checkPlanFlags(opts: ReconcileOptions, dryRun: boolean): void {
  if (opts.out !== undefined && !dryRun)
    throw new CliError('--out saves the plan of a dry run: use it with --dry-run', EXIT.usage);
  if (opts.plan !== undefined && dryRun)
    throw new CliError(
      '--plan applies a saved plan; to look at it, read the file (or make a new one with --dry-run)',
      EXIT.usage,
    );
}

function readPlanFile(file: string): SavedPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the plan ${file}: ${(err as Error).message}`);
  }
  try {
    return readSavedPlan(text, file);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** The source a saved plan was made from, as chooseSource's arguments. */
function sourceOptions(s: SavedPlanSource): { path: string | undefined; opts: Partial<ReconcileOptions> } {
  if (s.repo) return { path: undefined, opts: { repo: s.repo, ref: s.ref, path: s.subdir } };
  return { path: s.path, opts: {} };
}

/** Prints the outcome and sets the exit code: a plan (exit 0, or 2 for pending changes) or an error (exit 1). */
function report(
  outcome: ReconcileOutcome,
  opts: { format: Format; dryRun: boolean; detailedExitcode: boolean },
  c: Palette,
): void {
  const nothingApplied = opts.dryRun ? '' : '\nNothing was applied.';
  const fail = (message: string) => new CliError(`${message}${nothingApplied}`);
  const { plan } = outcome;
  if (outcome.reason === 'invalid') throw fail(new ManifestError(outcome.problems).message);
  if (plan === null || outcome.reason === 'stale-plan') throw fail(outcome.message ?? outcome.reason);
  // A dry run shows a refused plan with a warning: reviewing it is how one decides on the override.
  if (outcome.reason === 'refused' && !opts.dryRun) throw fail(outcome.message ?? outcome.reason);
  if (!opts.dryRun) {
    process.stdout.write(renderPlan(plan, opts.format, c, { applied: true }));
    process.exitCode = EXIT.ok;
    return;
  }
  warnRefusal(plan, opts.format);
  process.stdout.write(renderPlan(plan, opts.format, c));
  process.exitCode = opts.detailedExitcode && planHasChanges(plan) ? EXIT.changesPending : EXIT.ok;
}

/** JSON and markdown usually go to a file: a refusal is also said on stderr, where the CI log shows it. */
export function warnRefusal(plan: Plan, format: Format): void {
  if (plan.refused && format !== 'text')
    process.stderr.write(
      `taskops: warning: applying this plan would be refused: ${escapeControlKeepingLines(plan.refused.message)}\n`,
    );
}

/** `reconcile --server URL`: the running serve fetches its own source now and reconciles (POST /api/v1/sync). */
async function syncServer(path: string | undefined, opts: ReconcileOptions, format: Format): Promise<void> {
  if (path !== undefined || opts.repo || opts.dryRun) {
    throw new CliError(
      '--server makes the running serve sync its own source: give no PATH, --repo or --dry-run with it',
      EXIT.usage,
    );
  }
  const { data } = await callServer<SyncOutcome>(opts.server!, 'POST', '/api/v1/sync', {
    tokenFile: opts.apiTokenFile,
  });
  if (data.error) {
    const problems = data.error.problems.map((p) => `\n  ${p}`).join('');
    throw new CliError(
      `${opts.server} did not apply ${data.revision ?? 'its source'} (${data.outcome}): ${data.error.message}${problems}`,
    );
  }
  if (format === 'json') {
    process.stdout.write(JSON.stringify(data) + '\n');
    return;
  }
  const { create, update, delete: del } = data.summary;
  const counts = `${create} created, ${update} updated, ${del} deleted`;
  const lines: Record<string, string> = {
    applied: `${opts.server} applied ${data.revision}: ${counts}.`,
    unchanged: `No changes. Live state matches ${data.revision}.`,
    pending: `${opts.server} has changes pending from ${data.revision} (auto-apply is off): ${create} to create, ${update} to update, ${del} to delete.`,
  };
  // The server's answer quotes revisions: shown escaped, like any text from elsewhere.
  process.stdout.write(`${escapeControl(lines[data.outcome] ?? data.outcome)}\n`);
}
