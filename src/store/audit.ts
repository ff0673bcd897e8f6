import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { redactDeep } from '../text/redact.js';

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

/**
 * Appends one JSON line per entry. Each line goes out in its own append of a complete line, so a crash
 * leaves whole lines only (O_APPEND writes of this size are not interleaved or torn). The file is opened
 * once per apply: 10,000 open/close pairs would cost more than the transaction itself.
 */
export function appendAudit(dataDir: string, entries: AuditEntry[], at: Date): void {
  if (entries.length === 0) return;
  const file = auditLogPath(dataDir, at);
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const fd = openSync(file, 'a');
  try {
    for (const e of entries) {
      const line = {
        at: e.at,
        revision: e.revision,
        action: e.action,
        kind: e.kind,
        name: e.name,
        ...(e.reason ? { reason: e.reason } : {}),
      };
      // Audit files are shipped and read widely: no field may carry a credential, whatever wrote it.
      appendFileSync(fd, JSON.stringify(redactDeep(line)) + '\n');
    }
  } finally {
    closeSync(fd);
  }
}
