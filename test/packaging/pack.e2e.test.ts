import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../..');
const shared = join(repoRoot, 'node_modules');
const work = mkdtempSync(join(tmpdir(), 'taskops-pack-'));

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

/**
 * The top-level packages of the runtime dependency tree, as installed in this checkout. They are copied
 * into the temp project first, so npm finds every dependency already there and installs with --offline:
 * the test never reaches a registry.
 */
function runtimeTree(): string[] {
  const found = new Set<string>();
  const visit = (pkgDir: string) => {
    const pkg = readJson(join(pkgDir, 'package.json'));
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      // A package's own nested copy travels with it; the checkout's node_modules is the top level.
      const nested = join(pkgDir, 'node_modules', name);
      if (pkgDir !== repoRoot && existsSync(nested)) visit(nested);
      else if (existsSync(join(shared, name)) && !found.has(name)) {
        found.add(name);
        visit(join(shared, name));
      }
    }
  };
  visit(repoRoot);
  return [...found];
}

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('packaging', () => {
  it('npm pack ships the built JavaScript: installed with --omit=dev (no compiler) it runs taskops validate examples', () => {
    const packDir = join(work, 'pack');
    mkdirSync(packDir);
    const name = run('npm', ['pack', '--silent', '--pack-destination', packDir], repoRoot)
      .trim()
      .split('\n')
      .pop()!;
    const tarball = join(packDir, name);
    const listing = run('tar', ['-tzf', tarball], work);
    expect(listing).toContain('package/dist/cli/main.js');
    expect(listing).toContain('package/schemas/task.schema.json');
    expect(listing).not.toContain('package/src/');

    const app = join(work, 'app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true }),
    );
    for (const dep of runtimeTree()) {
      mkdirSync(dirname(join(app, 'node_modules', dep)), { recursive: true });
      cpSync(join(shared, dep), join(app, 'node_modules', dep), { recursive: true });
    }
    run('npm', ['install', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--no-save', tarball], app);
    expect(existsSync(join(app, 'node_modules', 'typescript'))).toBe(false);

    const bin = join(app, 'node_modules', '.bin', 'taskops');
    const out = run(bin, ['validate', join(app, 'node_modules', 'taskops', 'examples')], app);
    expect(out.trimEnd().split('\n').pop()).toBe('10 manifests in 7 files: OK');
  }, 300_000);
});
