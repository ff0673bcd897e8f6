import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
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

export function parseShare(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError('a share between 0 and 1, e.g. 0.5');
  return n;
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

async function run(path: string | undefined, opts: ReconcileOptions, cmd: Command): Promise<void> {
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

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description(
      'bring the live state to the manifests: plan, then apply in one transaction (or only print with --dry-run)',
    )
    .argument('[path]', 'folder of manifests (default: .)')
    .option('--dry-run', 'print the plan against the live state; change nothing')
    .option('--detailed-exitcode', 'with --dry-run: exit 2 when there are changes, 0 when none')
    .option(
      '--allow-delete-all',
      'allow a plan that deletes every live object, or more than --max-delete-share of them',
    )
    .option(
      '--max-delete-share <share>',
      'largest share (0-1) of live taskops objects one apply may delete',
      parseShare,
      0.5,
    )
    .option('-o, --output <format>', 'text, json or markdown', 'text')
    .option('--repo <url|path>', 'read the manifests from a git repository instead of a folder')
    .option('--ref <branch>', 'with --repo: branch, tag or commit (default: the remote HEAD)')
    .option('--path <subdir>', 'with --repo: folder of the manifests inside the repository')
    .option('--out <file>', 'with --dry-run: save the plan, to apply exactly it later with --plan FILE')
    .option(
      '--plan <file>',
      'apply exactly this saved plan; refused (exit 1) when the manifests or the live state changed since',
    )
    .option('--server <url>', 'have a running `taskops serve` fetch its own source and reconcile now')
    .option('--api-token-file <file>', 'bearer token for --server (default: $TASKOPS_API_TOKEN)')
    .addHelpText(
      'after',
      `
An invalid manifest set is never applied (exit 1). A plan that would delete every live object taskops
manages, or more than --max-delete-share of them (when 5 or more are live), is refused unless
--allow-delete-all. Objects made through the API are never deleted. Each applied change is appended
to <data-dir>/logs/audit-YYYY-MM-DD.jsonl. An apply is refused (exit 1) while a serve runs on the
data dir: it follows its own source, so commit there and use --server URL to make it sync now.

A saved plan (--dry-run --out FILE) holds the revision of the manifests, the generation of the live
state it was made against and a hash. --plan FILE applies exactly that plan, reading the manifests
from the same PATH or --repo (or the ones given), and refuses with "stale plan: …" (exit 1, nothing
applied) when either has changed since.

Exit codes: 0 done (or no changes), 1 error or invalid manifests, 2 changes pending (--dry-run
--detailed-exitcode), 64 usage error.

Examples:
  $ taskops reconcile manifests/ --dry-run
  $ taskops reconcile manifests/
  $ taskops reconcile --repo https://github.com/acme/ops-tasks.git --ref main --path manifests
  $ taskops reconcile --dry-run --detailed-exitcode --output json manifests/ > plan.json
  $ taskops reconcile --dry-run --out plan.json manifests/     # review it, then:
  $ taskops reconcile --plan plan.json
  $ taskops reconcile --server http://127.0.0.1:8080`,
    )
    .action((path: string | undefined, opts: ReconcileOptions, cmd: Command) => run(path, opts, cmd));
}
