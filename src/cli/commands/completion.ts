import type { Command } from 'commander';

export const SHELLS = ['bash', 'zsh'] as const;

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print shell completion for bash or zsh (commands, options, kinds)')
    .argument('<shell>', SHELLS.join(' or '))
    .addHelpText(
      'after',
      `
Examples:
  $ source <(taskops completion bash)            # in ~/.bashrc
  $ taskops completion zsh > "\${fpath[1]}/_taskops" # then restart zsh`,
    )
    .action(async (shell: string) => {
      const { completionAction } = await import('../completion.js');
      completionAction(shell, program);
    });
}
