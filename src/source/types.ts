/** Files of the manifests at one revision, on the local disk. */
export interface SourceSnapshot {
  /** The manifest root to load. */
  root: string;
  /** `path:<abs path>@<content hash>` for a folder, the commit SHA for git. */
  revision: string;
  /** Removes temporary files, when the snapshot made any. */
  cleanup?: () => Promise<void>;
}

/** Where the desired state comes from: a plain folder or a git repository. */
export interface Source {
  /** For messages: the folder, or `repo@ref:path`. */
  describe(): string;
  /** Reads (fetching first, for git) the current revision. Throws SourceError. */
  fetch(): Promise<SourceSnapshot>;
}
