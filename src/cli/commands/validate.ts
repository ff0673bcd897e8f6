import type { Command } from 'commander';
import type { ValidateOptions } from '../validate.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check manifests: YAML, schema, semantics (cron, zones, templates), references and secrets')
    .argument('[paths...]', 'files or folders of manifests', ['.'])
    .option('-o, --output <format>', 'text, json or markdown', 'text')
    .option('--repo <url|path>', 'validate a git repository (at --ref, below --path) instead of local paths')
    .option('--ref <branch>', 'with --repo: branch, tag or commit')
    .option('--path <subdir>', 'with --repo: folder of the manifests inside the repository')
    .option('--strict', 'treat warnings (a schedule that never fires again, an unused object) as errors')
    .option(
      '--allow-empty',
      'accept a set with no manifests at all (an error otherwise: usually a wrong path)',
    )
    .addHelpText(
      'after',
      `
Every problem is printed as file:line:col: Kind/name: message. Exit 0 when valid, 1 otherwise.
Warnings (a once or endsAt in the past, a cron that never fires, a Schedule, Tag or Webhook that
nothing uses) are printed too but keep exit 0, unless --strict makes them errors. No manifests at
all is an error unless --allow-empty.
Object types other than webhook and email are checked against the engine's drivers, and every
{env}/{file} secret reference against its secrets allowlist, when an engine config is found
(--config, or ./taskops.config.yaml); otherwise they are noted as unchecked.

Examples:
  $ taskops validate examples
  $ taskops validate manifests/ --output json | jq '.errors[].message'
  $ taskops --config /etc/taskops/taskops.config.yaml validate .
  $ taskops validate --repo https://git.example.com/ops/tasks.git --ref main --path manifests`,
    )
    .action(async (paths: string[], opts: ValidateOptions, cmd: Command) => {
      const { validateAction } = await import('../validate.js');
      await validateAction(paths, opts, cmd);
    });
}
