import { randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mayHoldCredentials, redactDeep } from '../text/redact.js';
import { openLineFile } from './line-file.js';
import type { PendingAudit, Store } from './types.js';

/** One configuration change: applied from a revision, or a task retired by the engine after its run. */
export interface AuditEntry {
  at: string;
  revision: string;
  action: 'create' | 'update' | 'delete';
  kind: string;
  name: string;
  /** Why, when it is not an apply: `deleteAfterRun`. */
  reason?: string;
}

/** `<dataDir>/logs/audit-YYYY-MM-DD.jsonl`, dated in UTC. */
export function auditLogPath(dataDir: string, at: Date): string {
  return join(dataDir, 'logs', `audit-${at.toISOString().slice(0, 10)}.jsonl`);
}

/** Lines gathered into one append: a write per line was a third of a 110,000-object apply's audit time. */
const APPEND_BYTES = 64 * 1024;

/**
 * Appends one JSON line per entry. Each append is of complete lines (up to APPEND_BYTES of them): a kill -9
 * can cut only the append in progress short, and its torn last line is ended at the next open (openLineFile)
 * so readers skip it alone. The file is opened once per apply: 10,000 open/close pairs would cost more than
 * the transaction itself.
 */
export function appendAudit(dataDir: string, entries: AuditEntry[], at: Date): void {
  if (entries.length === 0) return;
  const file = auditLogPath(dataDir, at);
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const fd = openLineFile(file);
  try {
    let lines = '';
    for (const e of entries) {
      const line = {
        at: e.at,
        revision: e.revision,
        action: e.action,
        kind: e.kind,
        name: e.name,
        ...(e.reason ? { reason: e.reason } : {}),
      };
      // Audit files are shipped and read widely: no field may carry a credential, whatever wrote it. The
      // line's JSON answers for every field at once; only one that may hold one is walked and redacted.
      const json = JSON.stringify(line);
      lines += (mayHoldCredentials(json) ? JSON.stringify(redactDeep(line)) : json) + '\n';
      if (lines.length >= APPEND_BYTES) {
        appendFileSync(fd, lines);
        lines = '';
      }
    }
    if (lines) appendFileSync(fd, lines);
  } finally {
    closeSync(fd);
  }
}

/**
 * Changes of this process whose lines are being written: a recovery running meanwhile (an apply's, beside a
 * retirement's) must leave them to their writer, or both would append them.
 */
const writing = new Set<string>();

/**
 * A change's audit lines as the store keeps them: the time and revision once (an apply's lines share them)
 * and a short row per line, a third of their JSON at 100,000s of lines.
 */
export function encodeAuditEntries(entries: readonly AuditEntry[]): string {
  const first = entries[0];
  if (first && entries.every((e) => e.at === first.at && e.revision === first.revision)) {
    const rows = entries.map((e) =>
      e.reason ? [e.action, e.kind, e.name, e.reason] : [e.action, e.kind, e.name],
    );
    return JSON.stringify({ at: first.at, revision: first.revision, rows });
  }
  return JSON.stringify(entries);
}

export function decodeAuditEntries(text: string): AuditEntry[] {
  const stored = JSON.parse(text) as AuditEntry[] | { at: string; revision: string; rows: string[][] };
  if (Array.isArray(stored)) return stored;
  return stored.rows.map(([action, kind, name, reason]) => ({
    at: stored.at,
    revision: stored.revision,
    action: action as AuditEntry['action'],
    kind: kind!,
    name: name!,
    ...(reason ? { reason } : {}),
  }));
}

/** One change's audit lines as the store keeps them until they are appended (see PendingAudit). */
export function pendingAudit(entries: AuditEntry[]): PendingAudit {
  const audit = { id: randomUUID(), entries };
  writing.add(audit.id);
  return audit;
}

/** Appends a committed change's audit lines, then tells the store they are written (see commitAudited). */
export async function writeAudit(store: Store, dataDir: string, audit: PendingAudit): Promise<void> {
  try {
    if (audit.entries.length === 0) return;
    appendAudit(dataDir, audit.entries, new Date(audit.entries[0]!.at));
    await store.auditWritten(audit.id);
  } finally {
    writing.delete(audit.id);
  }
}

/**
 * A change and its audit lines: `commit` stores the change with the lines kept in its transaction, then the
 * lines are appended and marked written. A change that fails to commit leaves no line to write.
 */
export async function commitAudited(
  store: Store,
  dataDir: string,
  entries: AuditEntry[],
  commit: (audit: PendingAudit) => Promise<void>,
): Promise<void> {
  const audit = pendingAudit(entries);
  try {
    await commit(audit);
  } catch (err) {
    writing.delete(audit.id);
    throw err;
  }
  await writeAudit(store, dataDir, audit);
}

/**
 * How old a kept change must be before another writer takes it over: its own writer appends its lines just
 * after its commit, so one still kept this long after its time lost its writer (a crash).
 */
export const AUDIT_SETTLED_MS = 15_000;

/**
 * Appends the audit lines of changes committed before a crash and never appended: those the store still
 * keeps, from before `before` when given (younger ones may still have a writer: another process's apply).
 * A crash may have cut an append short, so lines already in the day's file are not written twice.
 * Returns how many lines were appended.
 */
export async function recoverAudit(store: Store, dataDir: string, before?: Date): Promise<number> {
  const cutoff = before?.toISOString();
  let appended = 0;
  await store.takePendingAudits((pending) => {
    const left = pending.filter(
      (a) => !writing.has(a.id) && (cutoff === undefined || (a.entries[0]?.at ?? '') < cutoff),
    );
    left.sort((a, b) => (a.entries[0]?.at ?? '').localeCompare(b.entries[0]?.at ?? ''));
    for (const audit of left) {
      const at = new Date(audit.entries[0]?.at ?? 0);
      const present = linesIn(auditLogPath(dataDir, at));
      const missing = audit.entries.filter((e) => !present.has(entryKey(e)));
      appendAudit(dataDir, missing, at);
      appended += missing.length;
    }
    return left.map((a) => a.id);
  });
  return appended;
}

/** What identifies an audit line: its change, at its time, from its revision. */
const entryKey = (e: Pick<AuditEntry, 'at' | 'revision' | 'action' | 'kind' | 'name'>) =>
  JSON.stringify([e.at, e.revision, e.action, e.kind, e.name]);

/** The keys of the lines of an audit file (none when it does not exist); a torn or foreign line is skipped. */
function linesIn(file: string): Set<string> {
  const keys = new Set<string>();
  if (!existsSync(file)) return keys;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      keys.add(entryKey(JSON.parse(line) as AuditEntry));
    } catch {
      // A line a crash cut short: its change is written again whole.
    }
  }
  return keys;
}
