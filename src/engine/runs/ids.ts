import { createHash, randomUUID } from 'node:crypto';

/**
 * Run ids for event and schedule runs are derived from what caused them, so processing the same
 * event or firing twice (after a crash between steps) finds the run already there instead of doubling it.
 */
export function derivedRunId(...parts: Array<string | null>): string {
  const digest = createHash('sha256')
    .update(parts.map((p) => p ?? '\u0000').join('\u0001'))
    .digest('hex');
  return `run_${digest.slice(0, 24)}`;
}

export function manualRunId(): string {
  return `run_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

/** Time-ordered, unique event ids; `sys_` marks events the engine emits itself (loop guard). */
export function newEventId(now: Date, system = false): string {
  const time = now.getTime().toString(36).padStart(9, '0');
  return `${system ? 'sys' : 'evt'}_${time}${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

export const isSystemEventId = (id: string | null): boolean => id !== null && id.startsWith('sys_');
