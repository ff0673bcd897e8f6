import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LIMITS } from './limits.js';

const MANIFEST_FILE = /\.ya?ml$/i;
const ENGINE_CONFIG_FILE = /^taskops\.config\.ya?ml$/;

/**
 * Manifest files below `root` (or `root` itself when it is a file), sorted for deterministic output.
 * Dot-folders and node_modules are skipped; symbolic links are not followed, so a repo cannot point
 * the engine at files outside it. A folder below `root` with its own taskops.config.yaml is another
 * engine's repo (examples/vergeos) and is skipped too, as Go skips a nested module.
 */
export async function listManifestFiles(root: string): Promise<string[]> {
  const info = await stat(root);
  if (info.isFile()) return [root];
  const found: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    if (dir !== root && entries.some((e) => e.isFile() && ENGINE_CONFIG_FILE.test(e.name))) return;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
        await walk(full);
      } else if (entry.isFile() && MANIFEST_FILE.test(entry.name)) {
        found.push(full);
        if (found.length > LIMITS.maxFiles)
          throw new Error(`more than ${LIMITS.maxFiles} manifest files below ${root}`);
      }
    }
  };
  await walk(root);
  return found;
}
