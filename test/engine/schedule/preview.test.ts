import { describe, expect, it } from 'vitest';
import { formatFiring, previewFirings } from '../../../src/engine/schedule/index.js';

describe('previewFirings', () => {
  it('shows each firing as local time with abbreviation and offset, plus UTC', () => {
    const preview = previewFirings(
      { timezone: 'America/New_York', cron: '0 18 * * 5' },
      { after: new Date('2026-10-25T00:00Z'), count: 2, defaultZone: 'UTC' },
    );
    expect(preview.map(({ local, utc }) => ({ local, utc }))).toEqual([
      { local: 'Fri 2026-10-30 18:00 EDT (-04:00)', utc: '2026-10-30T22:00:00.000Z' },
      { local: 'Fri 2026-11-06 18:00 EST (-05:00)', utc: '2026-11-06T23:00:00.000Z' },
    ]);
    expect(preview[0]!.at).toEqual(new Date('2026-10-30T22:00:00.000Z'));
  });

  it('uses the engine default zone when the schedule names none', () => {
    const [first] = previewFirings(
      { repeat: { unit: 'days', at: '07:00' } },
      { after: new Date('2026-01-01T00:00Z'), count: 1, defaultZone: 'Europe/Berlin' },
    );
    expect(first!.local).toBe('Thu 2026-01-01 07:00 CET (+01:00)');
  });

  it('names European, Australian, Indian and UTC zones', () => {
    const at = new Date('2026-07-01T12:00:00Z');
    expect(formatFiring(at, 'Europe/Berlin').local).toBe('Wed 2026-07-01 14:00 CEST (+02:00)');
    expect(formatFiring(at, 'Australia/Sydney').local).toBe('Wed 2026-07-01 22:00 AEST (+10:00)');
    expect(formatFiring(at, 'Asia/Kolkata').local).toBe('Wed 2026-07-01 17:30 IST (+05:30)');
    expect(formatFiring(at, 'UTC').local).toBe('Wed 2026-07-01 12:00 UTC (+00:00)');
  });

  it('falls back to a GMT offset name for zones without a common abbreviation', () => {
    expect(formatFiring(new Date('2026-07-01T12:00:00Z'), 'Asia/Kathmandu').local).toBe(
      'Wed 2026-07-01 17:45 GMT+5:45 (+05:45)',
    );
  });
});
