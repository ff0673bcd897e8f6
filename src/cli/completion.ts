import type { Command } from 'commander';
import { CliError, EXIT } from './exit.js';
import { SHELLS } from './commands/completion.js';
import { KIND_CHOICES } from './commands/option-values.js';

export function completionAction(shell: string, program: Command): void {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new CliError(`completion takes bash or zsh (got ${shell})`, EXIT.usage);
  }
  process.stdout.write(shell === 'bash' ? bashScript(program) : zshScript(program));
}

/** Every option a command takes, long and short, its own and the global ones. */
function flagsOf(cmd: Command): string[] {
  return cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
}

/** One bash function: the command word first, then that command's options (and kinds for get/describe). */
function bashScript(program: Command): string {
  const commands = program.commands.map((c) => c.name()).join(' ');
  const global = [...flagsOf(program), '--help', '--version'].join(' ');
  const cases = program.commands
    .map((c) => {
      const words = [...c.commands.map((s) => s.name()), ...flagsOf(c), '--help'];
      if (c.name() === 'get') words.push(...KIND_CHOICES);
      if (c.name() === 'describe') words.push(...KIND_CHOICES.map((k) => `${k.replace(/s$/, '')}/`));
      if (c.name() === 'completion') words.push('bash', 'zsh');
      return `    ${c.name()}) words="${words.join(' ')}" ;;`;
    })
    .join('\n');
  return `# taskops completion for bash (taskops completion bash)
_taskops() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" command="" i words
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      --data-dir|--config) ((i++)) ;;
      -*) ;;
      *) command="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$command" in
    "") words="${commands} ${global}" ;;
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  [[ \${#COMPREPLY[@]} -eq 1 && "\${COMPREPLY[0]}" == */ ]] && compopt -o nospace 2>/dev/null
  return 0
}
complete -o default -F _taskops taskops
`;
}

/** zsh runs the same function through its bash-completion layer: one definition, two shells. */
function zshScript(program: Command): string {
  return `#compdef taskops
# taskops completion for zsh (taskops completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(program).split('\n').slice(1).join('\n')}`;
}
