import type { Command } from 'commander';
import type { ServeOptions } from '../serve.js';
import { parseShare } from './option-values.js';

/** SIGTERM to exit, at most: runs get most of it, the rest is for flushing and closing. */
export const SHUTDOWN_DEADLINE_MS = 8000;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the engine: follow the source, reconcile, schedule, take events, execute, serve the HTTP API',
    )
    .argument('[path]', 'folder of manifests to follow (watched for changes); or use --repo')
    .option('--listen <host:port>', 'address of the HTTP API', '127.0.0.1:8080')
    .option(
      '--poll-interval <duration>',
      'how often the source is fetched (POST /api/v1/sync fetches at once)',
      '60s',
    )
    .option('--api-token-file <file>', 'file holding the API bearer token (default: $TASKOPS_API_TOKEN)')
    .option('--no-auto-apply', 'only report drift and pending plans; never apply')
    .option(
      '--max-delete-share <share>',
      'largest share (0-1) of live objects one sync may delete',
      parseShare,
      0.5,
    )
    .option('--repo <url|path>', 'follow a git repository instead of a folder')
    .option('--ref <branch>', 'with --repo: branch, tag or commit')
    .option('--path <subdir>', 'with --repo: folder of the manifests inside the repository')
    .option('--log-level <level>', 'fatal, error, warn, info, debug', 'info')
    .option('--log-format <format>', 'auto (pretty on a terminal, else JSON lines), json or pretty', 'auto')
    .addHelpText(
      'after',
      `
Without an API token (TASKOPS_API_TOKEN or --api-token-file) the API listens on loopback only.
SIGTERM or SIGINT: stop taking events, let runs finish (up to ${SHUTDOWN_DEADLINE_MS / 1000}s), exit 0.

Examples:
  $ taskops --config examples/taskops.config.yaml serve examples
  $ TASKOPS_API_TOKEN=$(cat /run/secrets/taskops) taskops serve --repo https://git.example.com/ops/tasks.git \\
      --ref main --path manifests --listen 0.0.0.0:8080 --poll-interval 30s`,
    )
    .action(async (path: string | undefined, opts: ServeOptions, cmd: Command) => {
      const { serveAction } = await import('../serve.js');
      await serveAction(path, opts, cmd);
    });
}
