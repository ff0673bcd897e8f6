import { appendFileSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { RunRecord } from '../store/types.js';

/** One line of logs/runs-YYYY-MM-DD.jsonl, as in the contract (§5). */
export interface TaskLogLine {
  runId: string;
  task: string;
  status: 'succeeded' | 'failed' | 'skipped' | 'interrupted';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  trigger: { kind: string; name: string | null; event: string | null };
  target: { objectType: string; name: string | null };
  attempts: number;
  error: string | null;
  /** Per-attempt outcomes for webhooks, exit code for commands. */
  details?: unknown;
}

const FILE = /^runs-(\d{4}-\d{2}-\d{2})\.jsonl$/;

/** Appends finished runs to daily JSONL files; each line is written whole with one append. */
export class TaskLogWriter {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'logs');
    mkdirSync(this.dir, { recursive: true });
  }

  append(run: RunRecord): void {
    const startedAt = run.startedAt ?? run.queuedAt;
    const finishedAt = run.finishedAt ?? startedAt;
    const line: TaskLogLine = {
      runId: run.runId,
      task: run.task,
      status: run.status as TaskLogLine['status'],
      startedAt,
      finishedAt,
      durationMs: run.durationMs ?? 0,
      trigger: run.trigger,
      target: run.target,
      attempts: run.attempts,
      error: run.error,
      ...(run.details === undefined || run.details === null ? {} : { details: run.details }),
    };
    // O_APPEND of one buffer below PIPE_BUF-ish sizes is atomic enough on local disks; a crash never leaves half a line
    // followed by another line, and readers skip a torn last line.
    appendFileSync(path.join(this.dir, `runs-${startedAt.slice(0, 10)}.jsonl`), JSON.stringify(line) + '\n');
  }

  /** Deletes daily files older than `days` before `now`. */
  prune(now: Date, days: number): string[] {
    const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString().slice(0, 10);
    const removed: string[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = FILE.exec(name);
      if (m && m[1]! < cutoff) {
        unlinkSync(path.join(this.dir, name));
        removed.push(name);
      }
    }
    return removed;
  }
}

/** Reads task-log lines from the files in `dataDir/logs`, oldest first; a torn last line is skipped. */
export function readTaskLogs(dataDir: string, opts: { since?: Date } = {}): TaskLogLine[] {
  const dir = path.join(dataDir, 'logs');
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => FILE.test(n))
      .sort();
  } catch {
    return [];
  }
  const sinceDay = opts.since?.toISOString().slice(0, 10);
  const lines: TaskLogLine[] = [];
  for (const name of names) {
    if (sinceDay && FILE.exec(name)![1]! < sinceDay) continue;
    for (const raw of readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      if (!raw) continue;
      try {
        const line = JSON.parse(raw) as TaskLogLine;
        if (!opts.since || line.startedAt >= opts.since.toISOString()) lines.push(line);
      } catch {
        // a line torn by a crash mid-write: the rest of the log is still good
      }
    }
  }
  return lines.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
}
