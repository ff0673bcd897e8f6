import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { SourceError } from './errors.js';
import type { Source, SourceSnapshot } from './types.js';

const MANIFEST_FILE = /\.ya?ml$/i;
const ENGINE_CONFIG_FILE = /^taskops\.config\.ya?ml$/;

/** Manifest files below `root`, sorted: dot-folders, node_modules and nested engines' repos skipped, as the loader does. */
async function manifestFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    if (dir !== root && entries.some((e) => e.isFile() && ENGINE_CONFIG_FILE.test(e.name))) return;
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && MANIFEST_FILE.test(e.name)) out.push(full);
    }
  };
  await walk(root);
  return out.sort();
}

/** A short sha256 over every manifest file's relative path and content: changes when any of them does. */
export async function folderContentHash(root: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await manifestFiles(root)) {
    hash.update(relative(root, file).split(sep).join('/')).update('\0');
    hash.update(await readFile(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

/** A plain directory of manifests; its revision is `path:<abs path>@<content hash>`. */
export class FolderSource implements Source {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
  }

  describe(): string {
    return this.path;
  }

  async fetch(): Promise<SourceSnapshot> {
    const info = await stat(this.path).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new SourceError(`manifest folder ${this.path} does not exist or is not a directory: check PATH`, {
        path: this.path,
      });
    }
    return { root: this.path, revision: `path:${this.path}@${await folderContentHash(this.path)}` };
  }
}
