/** A temp dir removed when the bench ends: normally, by a throw, or by Ctrl-C. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dirs: string[] = [];
const removeAll = () => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
};
process.once('exit', removeAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // 'exit' is not emitted for a signal; remove first, then die as the signal would have.
  process.once(signal, () => {
    removeAll();
    process.kill(process.pid, signal);
  });
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `taskops-bench-${prefix}-`));
  dirs.push(dir);
  return dir;
}
