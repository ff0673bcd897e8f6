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
