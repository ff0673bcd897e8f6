import type { Command } from 'commander';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'write a starter repo: a task, a schedule, an engine config with its secrets allowlist, the CI workflow',
    )
    .argument('[dir]', 'where to write it', '.')
    .addHelpText(
      'after',
      `
Writes taskops.config.yaml, manifests/task.yaml, manifests/schedule.yaml and
.github/workflows/taskops-plan.yml; refuses (exit 1, nothing written) when any of them exists.

Examples:
  $ taskops init ops-tasks && cd ops-tasks
  $ taskops --config taskops.config.yaml validate manifests`,
    )
    .action(async (dir: string) => {
      const { initAction } = await import('../init.js');
      await initAction(dir);
    });
}
