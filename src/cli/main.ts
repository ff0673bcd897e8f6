import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { escapeControlKeepingLines } from '../manifest/control.js';
import { redactCredentials } from '../text/redact.js';
import { CliError, EXIT } from './exit.js';
import { registerValidate } from './commands/validate.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerPlan } from './commands/plan.js';
import { registerStatus } from './commands/status.js';
import { registerRun } from './commands/run.js';
import { registerEmit } from './commands/emit.js';
import { registerLogs } from './commands/logs.js';
import { registerPreview } from './commands/preview.js';
import { registerGet } from './commands/get.js';
import { registerDescribe } from './commands/describe.js';
import { registerServe } from './commands/serve.js';
import { registerImport } from './commands/import.js';
import { registerDeliveries } from './commands/deliveries.js';
import { registerReplay } from './commands/replay.js';
import { registerWebhooks } from './commands/webhooks.js';
import { registerCompletion } from './commands/completion.js';
import { registerInit } from './commands/init.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * Every command's definition (commands/*.ts: arguments, options, help) registers it; its action is imported
 * only when it runs, so --help and each command load what they use. The order here is the order in --help.
 */
const COMMANDS: Array<(program: Command) => void> = [
  registerValidate,
  registerReconcile,
  registerPlan,
  registerStatus,
  registerRun,
  registerEmit,
  registerLogs,
  registerGet,
  registerDescribe,
  registerPreview,
  registerServe,
  registerImport,
  registerDeliveries,
  registerReplay,
  registerWebhooks,
  registerInit,
  registerCompletion,
];

export function buildProgram(): Command {
  const program = new Command('taskops')
    .description(
      'Automation-as-code for operations teams: a git repo of YAML manifests drives a task engine.',
    )
    .version(VERSION)
    .option('--data-dir <dir>', 'the embedded store and logs/', './.taskops')
    .option('--config <file>', 'engine settings (default: ./taskops.config.yaml when present)')
    .option(
      '--store-url <url>',
      'a PostgreSQL store (postgres://…) that several serve replicas share (default: $TASKOPS_STORE_URL, then store.urlFrom, then SQLite in the data dir)',
    )
    .option('--no-color', 'plain output (also when stdout is not a TTY or NO_COLOR is set)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(oneLineError(text)) });
  for (const register of COMMANDS) register(program);
  // A usage error is one line and where to look, not the whole help scrolling the error away.
  program.showHelpAfterError("Run 'taskops --help' for the commands and global options.");
  for (const sub of program.commands) {
    sub.showHelpAfterError(`Run 'taskops ${sub.name()} --help' for its arguments and options.`);
  }
  return program;
}

/** Commander's `error: unknown command 'stauts'\n(Did you mean status?)` as `taskops: unknown command 'stauts' (did you mean status?)`. */
function oneLineError(text: string): string {
  const line = text
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean/, ' (did you mean')
    .trim()
    .replace(/\n+/g, ' ');
  return `taskops: ${line}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      if (err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    // Messages quote manifests, object names, servers and programs: none of them may drive the terminal;
    // and whatever failed may quote a URL with its credential (git's stderr, a driver's error).
    const shown = (text: string) => escapeControlKeepingLines(redactCredentials(text));
    if (err instanceof CliError) {
      process.stderr.write(`taskops: ${shown(err.message)}\n`);
      return err.exitCode;
    }
    process.stderr.write(`taskops: ${shown(err instanceof Error ? err.message : String(err))}\n`);
    return EXIT.error;
  }
}
