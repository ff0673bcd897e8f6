import { spawn } from 'node:child_process';
import { SourceError } from './errors.js';

/**
 * The contents of many blobs through one `git cat-file --batch` process: one spawn per plan instead of one
 * per manifest file, which matters for repositories with hundreds of files.
 */
export function readBlobs(repoDir: string, shas: string[]): Promise<Map<string, Buffer>> {
  const unique = [...new Set(shas)];
  if (unique.length === 0) return Promise.resolve(new Map());
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], {
      cwd: repoDir,
      env: { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err) =>
      reject(new SourceError(`could not run git in ${repoDir}: ${err.message}`, { repo: repoDir })),
    );
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new SourceError(`git cat-file failed in ${repoDir}: ${stderr.trim()}`, { repo: repoDir }));
        return;
      }
      try {
        resolvePromise(parseBatch(Buffer.concat(chunks)));
      } catch (err) {
        reject(
          new SourceError(`could not read blobs in ${repoDir}: ${(err as Error).message}`, { repo: repoDir }),
        );
      }
    });
    child.stdin.end(unique.join('\n') + '\n');
  });
}

/** `<sha> <type> <size>\n<content>\n` per object; `<sha> missing\n` for unknown ones. */
function parseBatch(out: Buffer): Map<string, Buffer> {
  const blobs = new Map<string, Buffer>();
  let pos = 0;
  while (pos < out.length) {
    const eol = out.indexOf(0x0a, pos);
    if (eol === -1) throw new Error('truncated header');
    const [sha = '', type, size] = out.subarray(pos, eol).toString().split(' ');
    pos = eol + 1;
    if (type === 'missing' || size === undefined) throw new Error(`object ${sha} is missing`);
    const length = Number(size);
    blobs.set(sha, out.subarray(pos, pos + length));
    pos += length + 1;
  }
  return blobs;
}
