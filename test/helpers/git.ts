import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';

/** A real git repository in a temp dir, for tests: write files, commit, branch, clean up. */
export interface TempRepo {
  dir: string;
  git: SimpleGit;
  /** Writes files (relative path → content; null removes the file). */
  write(files: Record<string, string | null>): void;
  /** Writes the files, stages everything, commits; returns the commit SHA. */
  commit(message: string, files?: Record<string, string | null>): Promise<string>;
  cleanup(): void;
}

export async function tempRepo(prefix = 'taskops-repo-'): Promise<TempRepo> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const git = simpleGit({ baseDir: dir });
  await git.init(['--initial-branch=main']);
  await git.addConfig('user.name', 'taskops test');
  await git.addConfig('user.email', 'test@taskops.invalid');
  await git.addConfig('commit.gpgsign', 'false');
  const write = (files: Record<string, string | null>) => {
    for (const [rel, content] of Object.entries(files)) {
      const full = join(dir, rel);
      if (content === null) rmSync(full, { force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
  };
  return {
    dir,
    git,
    write,
    async commit(message, files = {}) {
      write(files);
      await git.add(['-A']);
      await git.commit(message, { '--allow-empty': null });
      return (await git.revparse(['HEAD'])).trim();
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A temp dir removed by the returned function. */
export function tempDir(prefix = 'taskops-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** YAML of one manifest document, for writing into temp repos. */
export function yamlTask(name: string, extra: Record<string, string> = {}): string {
  const lines = [
    'apiVersion: taskops/v1',
    'kind: Task',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  objectType: webhook',
    '  target: {name: hook}',
    '  action: send',
    ...Object.entries(extra).map(([k, v]) => `  ${k}: ${v}`),
  ];
  return lines.join('\n') + '\n';
}

export const YAML_WEBHOOK = `apiVersion: taskops/v1
kind: Webhook
metadata:
  name: hook
spec:
  urlFrom: {env: SLACK_URL}
  auth: {type: bearer, tokenFrom: {env: SLACK_TOKEN}}
`;

/** What one in-process `taskops` invocation printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `taskops ARGS` in-process through main(), capturing stdout and stderr. Commands report their exit
 * code through process.exitCode; it is reset before and after so runs never leak into each other.
 */
export async function runCli(args: string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  const { main } = await import('../../src/cli/main.js');
  const out: string[] = [];
  const err: string[] = [];
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  const cwd = process.cwd();
  process.stdout.write = ((chunk: string | Uint8Array) => (
    out.push(String(chunk)),
    true
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (
    err.push(String(chunk)),
    true
  )) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    if (opts.cwd) process.chdir(opts.cwd);
    const code = await main(['node', 'taskops', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.chdir(cwd);
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    process.exitCode = undefined;
  }
}
