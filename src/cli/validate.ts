import type { Command } from 'commander';
import {
  escapeControlKeepingLines,
  formatProblem,
  loadManifests,
  type LoadResult,
  type ManifestProblem,
} from '../manifest/index.js';
import { relabelProblem } from '../reconcile/desired.js';
import {
  engineConfig,
  globalOptions,
  optionalCatalog,
  optionalSecretPolicy,
  parseOutputFormat,
  stdoutPalette,
} from './context.js';
import { CliError, EXIT } from './exit.js';
import type { Palette } from './output.js';

const FORMATS = ['text', 'json', 'markdown'] as const;

export interface ValidateOptions {
  output: string;
  repo?: string;
  ref?: string;
  path?: string;
  strict?: boolean;
  allowEmpty?: boolean;
}

export async function validateAction(paths: string[], opts: ValidateOptions, cmd: Command): Promise<void> {
  const format = parseOutputFormat(opts.output, FORMATS);
  const resolved = engineConfig(cmd);
  const loadOpts = {
    revision: 'working tree',
    driverCatalog: optionalCatalog(resolved),
    secretPolicy: optionalSecretPolicy(resolved),
    defaultZone: resolved.config.defaultTimezone,
    now: new Date(),
  };
  if (opts.repo === undefined && (opts.ref !== undefined || opts.path !== undefined)) {
    throw new CliError('--ref and --path go with --repo', EXIT.usage);
  }
  const loaded = opts.repo ? await validateRepo(opts, cmd, loadOpts) : await loadManifests(paths, loadOpts);
  const where = opts.repo ? `${opts.repo}${opts.path ? ` --path ${opts.path}` : ''}` : paths.join(' ');
  const result = applyStrictness(loaded, where, opts);
  process.stdout.write(render(result, format, stdoutPalette(cmd)));
  process.exitCode = result.problems.length === 0 ? EXIT.ok : EXIT.error;
}

async function validateRepo(
  opts: ValidateOptions,
  cmd: Command,
  loadOpts: Parameters<typeof loadManifests>[1],
): Promise<LoadResult> {
  // Only --repo needs git (simple-git): local paths never load it.
  const { GitSource } = await import('../source/index.js');
  const source = new GitSource({
    repo: opts.repo!,
    ref: opts.ref,
    path: opts.path,
    dataDir: globalOptions(cmd).dataDir,
  });
  let snap;
  try {
    snap = await source.fetch();
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  try {
    const result = await loadManifests([snap.root], { ...loadOpts, revision: snap.revision });
    // Name files as they are in the repository, not by the cache they were read from.
    const rename = (p: ManifestProblem) => relabelProblem(p, snap.root, source.subdir || '.');
    return {
      ...result,
      problems: result.problems.map(rename),
      notes: result.notes.map(rename),
      warnings: result.warnings.map(rename),
    };
  } finally {
    await snap.cleanup?.();
  }
}

/** --strict makes warnings errors; an empty set is an error unless --allow-empty (a wrong path must not pass CI). */
export function applyStrictness(
  result: LoadResult,
  where: string,
  opts: { strict?: boolean; allowEmpty?: boolean },
): LoadResult {
  const problems = [...result.problems];
  if (result.documents === 0 && problems.length === 0 && !opts.allowEmpty) {
    problems.unshift({
      layer: 'limit',
      location: { file: where, line: 1, col: 1 },
      message: `no manifests found in ${result.files} file${result.files === 1 ? '' : 's'}: check the path, or pass --allow-empty if an empty set is meant`,
    });
  }
  if (!opts.strict) return { ...result, problems };
  return {
    ...result,
    problems: [...problems, ...result.warnings.map((w) => ({ ...w, message: `${w.message} (--strict)` }))],
    warnings: [],
  };
}

/** A problem as a line of text; messages quote keys and values of the manifest, so controls are escaped. */
const problemLine = (p: ManifestProblem): string => escapeControlKeepingLines(formatProblem(p));

function render(result: LoadResult, format: (typeof FORMATS)[number], c: Palette): string {
  const n = result.problems.length;
  const errorFiles = new Set(result.problems.map((p) => p.location.file)).size;
  const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;
  const w = result.warnings.length;
  const warned = w > 0 ? `, ${plural(w, 'warning')}` : '';
  const summary =
    n === 0
      ? `${plural(result.documents, 'manifest')} in ${plural(result.files, 'file')}: OK${warned}`
      : `${plural(n, 'error')} in ${plural(errorFiles, 'file')}${warned}`;
  if (format === 'json') {
    const json = {
      valid: n === 0,
      files: result.files,
      manifests: result.documents,
      errors: result.problems.map(toJson),
      warnings: result.warnings.map(toJson),
      notes: result.notes.map(toJson),
    };
    return JSON.stringify(json, null, 2) + '\n';
  }
  if (format === 'markdown') {
    const lines = [`### taskops validate: ${n === 0 ? '✅' : '❌'} ${summary}`, ''];
    if (n > 0) lines.push('```', ...result.problems.map(problemLine), '```', '');
    if (w > 0) lines.push('**Warnings**', '', '```', ...result.warnings.map(problemLine), '```', '');
    if (result.notes.length > 0) {
      lines.push(
        '<details><summary>Notes</summary>',
        '',
        ...result.notes.map((p) => `- \`${problemLine(p)}\``),
        '',
        '</details>',
        '',
      );
    }
    return lines.join('\n');
  }
  const lines = [
    ...result.problems.map((p) => c.red(problemLine(p))),
    ...result.warnings.map((p) => c.yellow(`${problemLine(p)} (warning)`)),
    ...result.notes.map((p) => c.dim(`${problemLine(p)} (note)`)),
    n === 0 ? c.green(summary) : c.bold(c.red(summary)),
  ];
  return lines.join('\n') + '\n';
}

function toJson(p: ManifestProblem) {
  return {
    file: p.location.file,
    line: p.location.line,
    col: p.location.col,
    object: p.object ?? null,
    layer: p.layer,
    message: p.message,
  };
}
