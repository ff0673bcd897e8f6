import type { Command } from 'commander';
import { formatProblem, loadManifests, type ManifestProblem } from '../manifest/index.js';
import { engineConfig, optionalCatalog, parseOutputFormat, stdoutPalette } from './context.js';
import { EXIT } from './exit.js';

const FORMATS = ['text', 'json'] as const;

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check manifests: YAML, schema, semantics (cron, zones, templates), references and secrets')
    .argument('[paths...]', 'files or folders of manifests', ['.'])
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Every problem is printed as file:line:col: Kind/name: message. Exit 0 when valid, 1 otherwise.
Object types other than webhook and email are checked against the engine's drivers when an
engine config is found (--config, or ./taskops.config.yaml); otherwise they are noted as unchecked.

Examples:
  $ taskops validate examples
  $ taskops validate manifests/ --output json | jq '.errors[].message'
  $ taskops --config /etc/taskops/taskops.config.yaml validate .`,
    )
    .action(async (paths: string[], opts: { output: string }, cmd: Command) => {
      const format = parseOutputFormat(opts.output, FORMATS);
      const result = await loadManifests(paths, {
        revision: 'working tree',
        driverCatalog: optionalCatalog(cmd),
        defaultZone: engineConfig(cmd).config.defaultTimezone,
      });
      const manifests = result.documents;
      if (format === 'json') {
        process.stdout.write(
          JSON.stringify(
            {
              valid: result.problems.length === 0,
              files: result.files,
              manifests,
              errors: result.problems.map(toJson),
              notes: result.notes.map(toJson),
            },
            null,
            2,
          ) + '\n',
        );
      } else {
        const c = stdoutPalette(cmd);
        const lines = [
          ...result.problems.map((p) => c.red(formatProblem(p))),
          ...result.notes.map((p) => c.dim(`${formatProblem(p)} (note)`)),
        ];
        const errorFiles = new Set(result.problems.map((p) => p.location.file)).size;
        const n = result.problems.length;
        lines.push(
          n === 0
            ? c.green(
                `${manifests} manifest${manifests === 1 ? '' : 's'} in ${result.files} file${result.files === 1 ? '' : 's'}: OK`,
              )
            : c.bold(
                c.red(`${n} error${n === 1 ? '' : 's'} in ${errorFiles} file${errorFiles === 1 ? '' : 's'}`),
              ),
        );
        process.stdout.write(lines.join('\n') + '\n');
      }
      process.exitCode = result.problems.length === 0 ? EXIT.ok : EXIT.error;
    });
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
