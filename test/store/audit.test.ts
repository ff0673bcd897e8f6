import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appendAudit,
  auditLogPath,
  decodeAuditEntries,
  encodeAuditEntries,
  pendingAudit,
  recoverAudit,
  writeAudit,
  type AuditEntry,
} from '../../src/store/audit.js';
import { contentHash, openStore, type ObjectWrite } from '../../src/store/index.js';
import { keptAudits } from '../helpers/audit.js';

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
  it('ends a line a crash tore before appending, so the torn line stays alone and the next lines parse', () => {
    const torn = mkdtempSync(path.join(tmpdir(), 'taskops-audit-torn-'));
    try {
      mkdirSync(path.join(torn, 'logs'));
      const file = auditLogPath(torn, at);
      appendFileSync(file, '{"at":"2026-03-01T12:00:00.000Z","revision":"r0"}\n{"at":"2026-03-01T1');
      appendAudit(torn, entries(2), at);
      const lines = readFileSync(file, 'utf8').split('\n');
      expect(lines[1]).toBe('{"at":"2026-03-01T1');
      expect(lines.slice(2, 4).map((l) => (JSON.parse(l) as AuditEntry).name)).toEqual(['s-0', 's-1']);
      expect(lines[4]).toBe('');
    } finally {
      rmSync(torn, { recursive: true, force: true });
    }
  });

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

  it('masks a credential in any field, plain or percent-encoded, and leaves the lines around it as written', () => {
    const file = mkdtempSync(path.join(tmpdir(), 'taskops-audit-redact-'));
    try {
      const leaky: AuditEntry[] = [
        ...entries(1),
        { ...entries(1, 1)[0]!, revision: 'https://bot:s3cr3t@git.example.com/ops.git@main' },
        { ...entries(1, 2)[0]!, reason: 'from https%3A%2F%2Fbot%3As3cr3t%40git.example.com' },
        ...entries(1, 3),
      ];
      appendAudit(file, leaky, at);
      const text = readFileSync(auditLogPath(file, at), 'utf8');
      expect(text).not.toContain('s3cr3t');
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as AuditEntry);
      expect(lines[1]!.revision).toBe('https://***@git.example.com/ops.git@main');
      expect(lines[2]!.reason).toMatch(/^from https%3A%2F%2F\*\*\*%40git\.example\.com$/);
      expect(lines[0]).toStrictEqual(leaky[0]);
      expect(lines[3]).toStrictEqual(leaky[3]);
    } finally {
      rmSync(file, { recursive: true, force: true });
    }
  });

  it('appends, once each, the lines of a change committed before a crash kept them from the log', async () => {
    const data = mkdtempSync(path.join(tmpdir(), 'taskops-audit-recover-'));
    const store = await openStore(data);
    try {
      const tag = (name: string): ObjectWrite => {
        const metadata = { name };
        const spec = { category: 'vms', members: ['a'] };
        return {
          action: 'create',
          object: { kind: 'Tag', name, metadata, spec, hash: contentHash(metadata, spec) },
        };
      };
      const lines = entries(3).map((e) => ({ ...e, kind: 'Tag' }));
      // Another process's apply committed; it died after its first line (and half the second) was appended.
      const crashed = { id: 'crashed-apply', entries: lines };
      await store.applyWrites(
        lines.map((l) => tag(l.name)),
        'r1',
        at,
        { audit: crashed },
      );
      mkdirSync(path.join(data, 'logs'));
      const file = auditLogPath(data, at);
      appendFileSync(file, `${JSON.stringify(lines[0])}\n${JSON.stringify(lines[1]).slice(0, 20)}`);
      // Not before it settled: a change from `at` on may still have its writer.
      expect(await recoverAudit(store, data, at)).toBe(0);
      expect(await recoverAudit(store, data, new Date(at.getTime() + 1))).toBe(2);
      const names = () =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('{"at"') && l.endsWith('}'))
          .map((l) => (JSON.parse(l) as AuditEntry).name);
      expect(names()).toEqual(['s-0', 's-1', 's-2']);
      expect(await keptAudits(store)).toEqual([]);
      // Nothing is appended twice by a second recovery. A change of this process committed and not yet
      // written is left to its writer by a recovery meanwhile, which writes it once and marks it.
      expect(await recoverAudit(store, data)).toBe(0);
      const next = pendingAudit(entries(1, 3).map((e) => ({ ...e, kind: 'Tag' })));
      await store.applyWrites([tag('s-3')], 'r2', at, { audit: next });
      expect(await recoverAudit(store, data)).toBe(0);
      await writeAudit(store, data, next);
      expect(names()).toEqual(['s-0', 's-1', 's-2', 's-3']);
      expect(await keptAudits(store)).toEqual([]);
    } finally {
      await store.close();
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('keeps lines in the store compactly and gives them back as they were, whatever they share', () => {
    const same = entries(3);
    const mixed: AuditEntry[] = [
      ...entries(1),
      { ...entries(1, 1)[0]!, at: '2026-03-01T12:00:01.000Z', action: 'delete', reason: 'deleteAfterRun' },
    ];
    const retired: AuditEntry[] = [{ ...entries(1)[0]!, action: 'delete', reason: 'deleteAfterRun' }];
    for (const list of [same, mixed, retired, []])
      expect(decodeAuditEntries(encodeAuditEntries(list))).toEqual(list);
    expect(encodeAuditEntries(same).length).toBeLessThan(JSON.stringify(same).length / 2);
  });
});
