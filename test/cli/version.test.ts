import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve('bin/taskops.js');
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

describe('taskops --version', () => {
  it('prints the package version without loading the CLI modules', () => {
    // bin/ and package.json alone, no dist/: any import of the CLI would fail here.
    const dir = mkdtempSync(path.join(tmpdir(), 'taskops-version-'));
    try {
      mkdirSync(path.join(dir, 'bin'));
      copyFileSync(BIN, path.join(dir, 'bin', 'taskops.js'));
      copyFileSync('package.json', path.join(dir, 'package.json'));
      for (const flag of ['--version', '-V']) {
        const res = spawnSync(process.execPath, [path.join(dir, 'bin', 'taskops.js'), flag], {
          encoding: 'utf8',
        });
        expect(res.status, res.stderr).toBe(0);
        expect(res.stdout).toBe(`${VERSION}\n`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('goes through the CLI when anything else is on the line', () => {
    const res = spawnSync(process.execPath, [BIN, 'validate', '--help'], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('Usage: taskops validate');
  });
});
