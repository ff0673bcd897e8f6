import type { Command } from 'commander';
import type { ReconcileOptions } from '../reconcile.js';
import { parseShare } from './option-values.js';

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
    .action(async (path: string | undefined, opts: ReconcileOptions, cmd: Command) => {
      const { reconcileAction } = await import('../reconcile.js');
      await reconcileAction(path, opts, cmd);
    });
}
