import type { Command } from 'commander';
import type { PlanOptions } from '../plan.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description(
      'semantic plan between two git revisions of the manifests, for pull-request review (no live engine needed)',
    )
    .argument('[path]', 'folder of the manifests inside the repository', '.')
    .requiredOption('--base <ref>', 'the revision the change starts from, e.g. origin/main')
    .option('--head <ref>', 'the revision with the change; committed content, not the working tree', 'HEAD')
    .option('-o, --output <format>', 'text, json or markdown', 'text')
    .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when none')
    .option(
      '--auto-sync <url>',
      'markdown: the engine that follows the branch with auto-apply (else the comment says to apply with reconcile --plan)',
    )
    .addHelpText(
      'after',
      `
Both sides are read from commits of the repository that holds PATH (the working tree and the index
are never touched, so uncommitted edits are not part of --head: commit them first; with --head HEAD
the plan warns of uncommitted manifest changes). A PATH missing
at --base reads as empty, so every object is a create. The head must be valid (exit 1 otherwise).

Examples:
  $ taskops plan --base origin/main
  $ taskops plan --base origin/main --head HEAD manifests/
  $ taskops plan --base origin/main --output markdown manifests/ > plan.md
  $ taskops plan --base origin/main --output markdown --auto-sync https://taskops.example.com manifests/`,
    )
    .action(async (path: string, opts: PlanOptions, cmd: Command) => {
      const { planAction } = await import('../plan.js');
      await planAction(path, opts, cmd);
    });
}
