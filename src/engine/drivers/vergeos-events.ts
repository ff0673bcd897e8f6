import { controlCharacterAt, escapeControl } from '../../manifest/control.js';
import type { EventSourceConfig } from '../../manifest/types.js';
import type { EventFieldValue, Store } from '../../store/types.js';
import type { EventSource } from '../events/source.js';
import type { Clock } from '../schedule/clock.js';
import type { EngineLogger, EventInput } from '../types.js';
import { VergeosClient } from './vergeos-client.js';

export interface LogRule {
  objectType: string;
  text: string;
  level?: string;
  event: { type: string; name: string };
}

/**
 * How VergeOS log entries (object_type, level, text) become taskops events, after the config's own rules.
 * The wording is VergeOS's; a version that words an entry differently needs a rule in the config.
 */
export const DEFAULT_LOG_RULES: readonly LogRule[] = [
  { objectType: 'user', text: '\\blog(ged)?[ -]?out\\b', event: { type: 'users', name: 'logout' } },
  { objectType: 'user', text: '\\blog(ged)?[ -]?in\\b', event: { type: 'users', name: 'login' } },
  {
    objectType: 'vm',
    text: '\\bpower(ed)?[ -]?off\\b|\\bstopped\\b|\\bshut ?down\\b',
    event: { type: 'vms', name: 'power-off' },
  },
  {
    objectType: 'vm',
    text: '\\bpower(ed)?[ -]?on\\b|\\bstarted\\b',
    event: { type: 'vms', name: 'power-on' },
  },
  { objectType: 'site', text: 'sync', level: 'error', event: { type: 'syncs', name: 'error' } },
  { objectType: 'updates', text: '\\bfail', event: { type: 'system', name: 'update-failed' } },
  { objectType: 'updates', text: '\\bcomplete', event: { type: 'system', name: 'update-complete' } },
];

const LOG_FIELDS = '$key,level,text,timestamp,user,object_type,object_name';
const ALARM_FIELDS = '$key,level,status,alarm_id,owner_type,owner#name as owner_name,created';

export interface VergeosEventSourceOptions {
  name: string;
  client: VergeosClient;
  config: EventSourceConfig;
  pollIntervalMs: number;
  store: Store;
  clock: Clock;
  submit(event: EventInput): Promise<unknown>;
  log: EngineLogger;
}

/**
 * Polls a VergeOS system's `logs` (entries after the last one seen, by `$key`) and `alarms` (the active set,
 * compared with the last poll's) every pollInterval. An event is submitted, durably, before the cursor that
 * covers it is saved: a crash in between delivers it again after the restart (at least once, never lost
 * while VergeOS keeps the log entry: 45 days).
 */
export class VergeosEventSource implements EventSource {
  readonly name: string;
  private readonly rules: Array<LogRule & { pattern: RegExp }>;
  private cancelTimer: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private waiting = false;
  private stopped = false;

  constructor(private readonly opts: VergeosEventSourceOptions) {
    this.name = opts.name;
    this.rules = [...(opts.config.rules ?? []), ...DEFAULT_LOG_RULES].map((r) => ({
      ...r,
      pattern: new RegExp(r.text, 'i'),
    }));
  }

  start(): void {
    this.stopped = false;
    this.arm(this.opts.clock.now());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    await this.running;
  }

  /** One look at logs and alarms; resolves with the number of events submitted. */
  async pollOnce(): Promise<number> {
    let count = await this.pollLogs();
    if (this.opts.config.alarms !== false) count += await this.pollAlarms();
    return count;
  }

  private arm(at: Date): void {
    if (this.stopped) return;
    this.cancelTimer = this.opts.clock.setTimer(at, () => {
      // The next look is armed now, not when this one ends: the interval keeps to the clock however long a poll takes.
      this.arm(new Date(this.opts.clock.now().getTime() + this.opts.pollIntervalMs));
      this.pollAfterCurrent();
    });
  }

  /** Polls never overlap: a look due while one runs waits for it; one waiting look covers every missed interval. */
  private pollAfterCurrent(): void {
    if (this.waiting) return;
    this.waiting = true;
    this.running = (this.running ?? Promise.resolve()).then(async () => {
      this.waiting = false;
      if (this.stopped) return;
      try {
        await this.pollOnce();
      } catch (err) {
        this.opts.log.warn('VergeOS event source: poll failed; trying again at the next interval', {
          source: this.name,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    });
  }

  private meta(what: string): string {
    return `eventSource.${this.name}.${what}`;
  }

  private async pollLogs(): Promise<number> {
    const { client, store } = this.opts;
    const saved = await store.getMeta(this.meta('logCursor'));
    if (saved === undefined) {
      // First start: begin after the newest entry; history is not replayed as events.
      const newest = await client.page('logs', { sort: '-$key', limit: 1, fields: '$key' });
      await store.setMeta(this.meta('logCursor'), String(newest[0]?.$key ?? 0));
      return 0;
    }
    const rows = await client.list('logs', {
      filter: `$key gt ${Number(saved)}`,
      sort: '+$key',
      fields: LOG_FIELDS,
    });
    let count = 0;
    for (const row of rows) {
      const event = this.classify(row);
      if (event) {
        await this.opts.submit(event);
        count++;
      }
    }
    const last = rows.at(-1)?.$key;
    if (last !== undefined) await store.setMeta(this.meta('logCursor'), String(last));
    return count;
  }

  /** As the API refuses: an object name reaches argv (${NAME}) and terminals, so one with control characters is dropped. */
  private safeObject(object: string | null, from: string): boolean {
    if (object === null || controlCharacterAt(object) === -1) return true;
    this.opts.log.warn('VergeOS event source: entry dropped, its object name holds control characters', {
      source: this.name,
      from,
      object: escapeControl(object),
    });
    return false;
  }

  private classify(row: Record<string, unknown>): EventInput | null {
    const objectType = String(row.object_type ?? '');
    const level = String(row.level ?? '');
    const text = String(row.text ?? '');
    const rule = this.rules.find(
      (r) =>
        r.objectType === objectType && (r.level === undefined || r.level === level) && r.pattern.test(text),
    );
    if (!rule) return null;
    const object = String(row.object_name ?? '') || String(row.user ?? '') || null;
    if (!this.safeObject(object, `log ${String(row.$key)}`)) return null;
    const fields: Record<string, EventFieldValue> = {
      level,
      text,
      logKey: String(row.$key),
      source: this.name,
    };
    if (row.user) fields.user = String(row.user);
    if (typeof row.timestamp === 'number') fields.at = new Date(row.timestamp / 1000).toISOString();
    return { type: rule.event.type, name: rule.event.name, object, fields };
  }

  private async pollAlarms(): Promise<number> {
    const { client, store } = this.opts;
    const rows = await client.list('alarms', { fields: ALARM_FIELDS });
    const current = new Map(rows.map((r) => [String(r.$key), r]));
    const savedText = await store.getMeta(this.meta('alarms'));
    const known = new Map<string, Record<string, unknown>>(
      savedText ? (JSON.parse(savedText) as Array<[string, Record<string, unknown>]>) : [],
    );
    let count = 0;
    if (savedText !== undefined) {
      for (const [key, alarm] of current) {
        if (!known.has(key)) {
          const event = this.alarmEvent('raised', alarm);
          if (!event) continue;
          await this.opts.submit(event);
          count++;
        }
      }
      for (const [key, alarm] of known) {
        if (!current.has(key)) {
          const event = this.alarmEvent('lowered', alarm);
          if (!event) continue;
          await this.opts.submit(event);
          count++;
        }
      }
    }
    await store.setMeta(this.meta('alarms'), JSON.stringify([...current]));
    return count;
  }

  private alarmEvent(name: 'raised' | 'lowered', alarm: Record<string, unknown>): EventInput | null {
    const object = alarm.owner_name ? String(alarm.owner_name) : null;
    if (!this.safeObject(object, `alarm ${String(alarm.$key)}`)) return null;
    const fields: Record<string, EventFieldValue> = {
      level: String(alarm.level ?? ''),
      status: String(alarm.status ?? ''),
      alarmId: String(alarm.alarm_id ?? ''),
      ownerType: String(alarm.owner_type ?? ''),
      source: this.name,
    };
    return { type: 'alarms', name, object, fields };
  }
}
