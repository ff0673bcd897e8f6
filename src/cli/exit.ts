/** Exit codes of the contract (§2). */
export const EXIT = {
  ok: 0,
  error: 1,
  changesPending: 2,
  usage: 64,
} as const;

/** An error the CLI prints as-is (no stack) with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
