import type { Command } from 'commander';

/** The flags every command that can talk to a running engine takes. */
export interface ServerOptions {
  server?: string;
  apiTokenFile?: string;
}

export function addServerOptions(cmd: Command, what: string): Command {
  return cmd
    .option('--server <url>', `${what} (default: $TASKOPS_SERVER)`)
    .option('--api-token-file <file>', 'bearer token for --server (default: $TASKOPS_API_TOKEN)');
}
