import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/serve-process.js';

/**
 * The README's tour, run as a newcomer runs it: its ```sh blocks in order, as written, in a fresh temp dir
 * holding a copy of examples/, each output checked against the ```text block that follows it. Two things
 * differ from a newcomer's machine: `npx taskops` runs this checkout's bin/taskops.js (a shim on PATH), and
 * port 8080 becomes a free port, since other tests may be listening there.
 */
const ROOT = process.cwd();
const README = readFileSync('README.md', 'utf8');
const TOUR = README.slice(
  README.indexOf('## A 5-minute tour'),
  README.indexOf('\n## ', README.indexOf('## A 5-minute tour') + 1),
);

interface Block {
  lang: string;
  text: string;
}

const blocks: Block[] = [...TOUR.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({
  lang: m[1]!,
  text: m[2]!,
}));

/** What varies from run to run: times, ids, durations, revisions, and column padding. */
function normalise(text: string): string[] {
  return text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>')
    .replace(/run_[0-9a-f]+(-[0-9a-f]+)?/g, '<run>')
    .replace(/evt_[0-9a-z]+/g, '<event>')
    .replace(/\b\d+ms\b/g, '<ms>')
    .replace(/path:\S+@[0-9a-f]+/g, '<revision>')
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l !== '');
}

/** Expected lines in order; a `...` line stands for any number of lines. */
function matches(actual: string[], expected: string[]): boolean {
  const [head, ...rest] = expected;
  if (head === undefined) return actual.length === 0;
  if (head === '...') return actual.some((_, i) => matches(actual.slice(i), rest)) || matches([], rest);
  return actual[0] === head && matches(actual.slice(1), rest);
}

let serve: ChildProcess | undefined;
afterAll(() => {
  serve?.kill('SIGTERM');
});

describe('the README tour', () => {
  it('runs as written in a fresh directory, and every output is what the README shows', async () => {
    expect(blocks.filter((b) => b.lang === 'sh').length).toBeGreaterThanOrEqual(6);
    const dir = mkdtempSync(path.join(tmpdir(), 'taskops-tour-'));
    cpSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true });
    const bin = path.join(dir, '.bin');
    mkdirSync(bin);
    writeFileSync(
      path.join(bin, 'npx'),
      `#!/bin/sh\n[ "$1" = taskops ] || { echo "the tour only runs npx taskops" >&2; exit 99; }\nshift\nexec "${process.execPath}" "${path.join(ROOT, 'bin/taskops.js')}" "$@"\n`,
    );
    chmodSync(path.join(bin, 'npx'), 0o755);
    const port = String(await freePort());
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' };
    for (const k of ['TASKOPS_SERVER', 'TASKOPS_API_TOKEN', 'TASKOPS_DATA_DIR', 'TASKOPS_CONFIG'])
      delete env[k];
    let exports = '';

    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[i]!;
      if (block.lang !== 'sh') continue;
      const script = block.text.replace(/127\.0\.0\.1:8080/g, `127.0.0.1:${port}`);
      if (/ serve /.test(script)) {
        serve = spawn('bash', ['-c', `exec ${script.trim()} --listen 127.0.0.1:${port}`], {
          cwd: dir,
          env,
          stdio: 'ignore',
        });
        await untilReady(`http://127.0.0.1:${port}`);
        continue;
      }
      exports +=
        script
          .split('\n')
          .filter((l) => l.startsWith('export '))
          .join('\n') + '\n';
      const next = blocks[i + 1];
      const expected = next?.lang === 'text' ? normalise(next.text) : null;
      // After the engine started, runs finish in the background: a read command is retried until its output
      // settles (as a newcomer looks again); a command that changes something runs once.
      const reads = serve && !/ (emit|run) /.test(script);
      let last = '';
      for (let attempt = 0; attempt < (reads ? 25 : 1); attempt++) {
        const r = spawnSync('bash', ['-e', '-c', `${exports}\n${script}`], {
          cwd: dir,
          env,
          encoding: 'utf8',
        });
        expect(r.status, `${script}\n${r.stderr}`).toBe(0);
        last = r.stdout;
        if (!expected || matches(normalise(last), expected)) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (process.env.TOUR_DEBUG) console.log(script, last);
      if (expected && !matches(normalise(last), expected)) {
        expect(normalise(last).join('\n'), `output of:\n${script}`).toBe(expected.join('\n'));
      }
    }
    expect(
      readFileSync(path.join(dir, '.taskops', 'example-vms.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(3);
  }, 60_000);
});

async function untilReady(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the tour's serve did not become ready on ${url}`);
}
