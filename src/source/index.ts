export { SourceError } from './errors.js';
export type { Source, SourceSnapshot } from './types.js';
export { FolderSource, folderContentHash } from './folder.js';
export { GitSource, gitClient, type GitSourceOptions } from './git.js';
export { readTreeAtRevision, type ReadTreeOptions } from './tree.js';
export { cacheDirFor } from './paths.js';
export { acquireLock, wallClock, type LockClock } from './lock.js';
