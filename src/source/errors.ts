/** The manifests could not be read from their source: names the repo, ref and path, and what to check. */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly where: { repo?: string; ref?: string; path?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SourceError';
  }
}
