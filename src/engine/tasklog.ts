import { closeSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { openLineFile } from '../store/line-file.js';
import type { RunRecord } from '../store/types.js';
import { mayHoldCredentials, redactDeep } from '../text/redact.js';

/** One line of logs/runs-YYYY-MM-DD.jsonl, as in the contract (§5). */
export interface TaskLogLine {
  runId: string;
  task: string;
  /** `interrupted` also for one attempt cut off by an engine stopping: the run goes on, and logs its end later. */
  status: 'succeeded' | 'failed' | 'skipped' | 'interrupted' | 'cancelled';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Schedule runs add `scheduledFor` (their slot) and `catchUp` (true when standing in for a missed slot). */
  trigger: {
    kind: string;
    name: string | null;
    event: string | null;
    scheduledFor?: string;
    catchUp?: boolean;
  };
  target: { objectType: string; name: string | null };
  attempts: number;
  error: string | null;
  /** Per-attempt outcomes for webhooks, exit code for commands. */
  details?: unknown;
}

/** `runs-DAY.jsonl`, or `runs-DAY.REPLICA.jsonl` when several replicas share the logs folder. */
const FILE = /^runs-(\d{4}-\d{2}-\d{2})(?:\.[A-Za-z0-9_-][A-Za-z0-9_.-]*)?\.jsonl$/;

/**
 * Appends finished runs to daily JSONL files (by the run's UTC start day); each line is written whole with
 * one append. The day's file stays open between runs (opening it per line cost more than the write) and is
 * swapped when a run starts on another day; `close()` when the engine stops.
 */
export class TaskLogWriter {
  readonly dir: string;
  private file: { day: string; fd: number } | null = null;

  /** `replica`: with several engines on one shared store, each writes files of its own, named with its id. */
  constructor(
    dataDir: string,
    private readonly replica?: string,
  ) {
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
    // One append per line: a kill -9 can tear only the line being written, which the next open ends
    // (openLineFile) so that readers skip it alone.
    // A driver's error or details may quote a URL with its credential (a command's stderr, a webhook URL).
    const text = JSON.stringify(line);
    // Most lines quote nothing that could be a credential: redacting them would only copy the whole line.
    const bytes = Buffer.from((mayHoldCredentials(text) ? JSON.stringify(redactDeep(line)) : text) + '\n');
    const fd = this.fileFor(startedAt.slice(0, 10));
    try {
      // One write in practice; the loop only finishes a short write, as appendFileSync did.
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
    } catch (err) {
      // A descriptor that failed is not trusted again: the next line reopens the file.
      try {
        this.close();
      } catch {
        // the write's error is the one worth reporting
      }
      throw err;
    }
  }

  /**
   * Of these ended runs, those whose end is already in the folder (any replica's file of the run's day): a
   * line written just before a crash stopped its run being marked logged is not written twice.
   */
  loggedEnds(runs: readonly RunRecord[]): Set<string> {
    const wanted = new Set(runs.map(endKey));
    const days = new Set(runs.map((run) => (run.startedAt ?? run.queuedAt).slice(0, 10)));
    const found = new Set<string>();
    for (const line of linesOfDays(this.dir, (day) => days.has(day))) {
      const key = endKey(line);
      if (wanted.has(key)) found.add(key);
    }
    return found;
  }

  /** Closes the kept file; a later append reopens it. */
  close(): void {
    const file = this.file;
    this.file = null;
    if (file) closeSync(file.fd);
  }

  /** Deletes daily files older than `days` before `now`. */
  prune(now: Date, days: number): string[] {
    const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString().slice(0, 10);
    const removed: string[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = FILE.exec(name);
      if (m && m[1]! < cutoff) {
        // Lines for a pruned day must not go on into an unlinked file.
        if (this.file?.day === m[1]) this.close();
        unlinkSync(path.join(this.dir, name));
        removed.push(name);
      }
    }
    return removed;
  }

  private fileFor(day: string): number {
    if (this.file?.day === day) return this.file.fd;
    this.close();
    const name = this.replica ? `runs-${day}.${this.replica}.jsonl` : `runs-${day}.jsonl`;
    const fd = openLineFile(path.join(this.dir, name));
    this.file = { day, fd };
    return fd;
  }
}

/** What tells one end of a run from another line of it (an interrupted attempt's line has its own time). */
export function endKey(run: { runId: string; status: string; finishedAt: string | null }): string {
  return `${run.runId}\u0000${run.status}\u0000${run.finishedAt ?? ''}`;
}

/**
 * Reads task-log lines from the files in `dataDir/logs`, every replica's, merged oldest first; a torn last
 * line is skipped.
 */
export function readTaskLogs(dataDir: string, opts: { since?: Date } = {}): TaskLogLine[] {
  const since = opts.since?.toISOString();
  const sinceDay = since?.slice(0, 10);
  const lines: TaskLogLine[] = [];
  for (const line of linesOfDays(path.join(dataDir, 'logs'), (day) => !sinceDay || day >= sinceDay)) {
    if (!since || line.startedAt >= since) lines.push(line);
  }
  return lines.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
}

/** The lines of every task-log file in `dir` (every replica's) whose day `keep` takes, file by file. */
function* linesOfDays(dir: string, keep: (day: string) => boolean): Generator<TaskLogLine> {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of names) {
    const day = FILE.exec(name)?.[1];
    if (!day || !keep(day)) continue;
    for (const raw of readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      if (!raw) continue;
      try {
        yield JSON.parse(raw) as TaskLogLine;
      } catch {
        // a line torn by a crash mid-write: the rest of the log is still good
      }
    }
  }
}
