/** Bounds that keep a hostile or broken repository from exhausting the engine. */
export const LIMITS = {
  /** A manifest file larger than this is refused before it is read. */
  maxFileBytes: 1024 * 1024,
  /** Documents in one file. */
  maxDocumentsPerFile: 1000,
  /** Nesting of mappings and sequences. */
  maxDepth: 32,
  /** Alias expansions per document: anchors for reuse are fine, a billion laughs is not. */
  maxAliasCount: 100,
  /** Files below one root. */
  maxFiles: 20_000,
} as const;
