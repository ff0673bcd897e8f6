import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit, auditLogPath, type AuditEntry } from '../../src/store/audit.js';

const dir = mkdtempSync(path.join(tmpdir(), 'taskops-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = new Date('2026-03-01T12:00:00Z');
const entries = (n: number, from = 0): AuditEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    at: at.toISOString(),
    revision: 'r1',
    action: 'create',
    kind: 'Schedule',
    name: `s-${from + i}`,
  }));

describe('the audit log', () => {
  it('writes one whole line per change, in order, for an apply larger than one append', () => {
    appendAudit(dir, entries(5000), at);
    appendAudit(dir, entries(3, 5000), at);
    const lines = readFileSync(auditLogPath(dir, at), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(5003);
    expect(lines.map((l) => (JSON.parse(l) as AuditEntry).name)).toEqual(
      Array.from({ length: 5003 }, (_, i) => `s-${i}`),
    );
    expect(JSON.parse(lines[0]!)).toStrictEqual(entries(1)[0]);
  });
});
