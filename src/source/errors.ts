import { redactCredentials } from '../text/redact.js';

/**
 * The manifests could not be read from their source: names the repo, ref and path, and what to check. A
 * credential in any URL of the message (git's stderr echoes remotes) is masked.
 */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly where: { repo?: string; ref?: string; path?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(redactCredentials(message), options);
    this.name = 'SourceError';
    if (where.repo !== undefined) this.where = { ...where, repo: redactCredentials(where.repo) };
  }
}
