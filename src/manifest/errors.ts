import type { SourceLocation } from './types.js';

export type ManifestErrorLayer = 'yaml' | 'schema' | 'semantic' | 'reference' | 'security' | 'limit';

/** One problem in the manifests, located at the offending node. */
export interface ManifestProblem {
  layer: ManifestErrorLayer;
  location: SourceLocation;
  /** "Kind/name" when the document got far enough to have them. */
  object?: string;
  message: string;
}

export function formatProblem(p: ManifestProblem): string {
  const where = `${p.location.file}:${p.location.line}:${p.location.col}`;
  return p.object ? `${where}: ${p.object}: ${p.message}` : `${where}: ${p.message}`;
}

/** Thrown when a manifest set is invalid and the caller cannot go on (reconcile, plan, serve). */
export class ManifestError extends Error {
  constructor(readonly problems: ManifestProblem[]) {
    super(
      `${problems.length} manifest error${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  ${formatProblem(p)}`).join('\n'),
    );
    this.name = 'ManifestError';
  }
}
