import { appendFileSync, closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { mayHoldCredentials, redactDeep } from '../text/redact.js';
import { openLineFile } from './line-file.js';

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
