import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  disableWebhook,
  disabledReason,
  disabledWebhooks,
  enableWebhook,
  specHash,
} from '../../src/engine/disabled-webhooks.js';
import type { WebhookSpec } from '../../src/manifest/types.js';
import { MIGRATIONS, openStore, STORE_FILE, type SqliteStore } from '../../src/store/index.js';

const spec = (url: string): WebhookSpec => ({ url }) as WebhookSpec;
const gone = (runId: string) => ({ status: 410, at: '2026-11-23T12:00:00.000Z', runId });

let dir: string | undefined;
const opened: SqliteStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function twoEngines(): Promise<[SqliteStore, SqliteStore]> {
  dir = mkdtempSync(join(tmpdir(), 'taskops-disabled-'));
  const a = await openStore(dir);
  const b = await openStore(dir);
  opened.push(a, b);
  return [a, b];
}

describe('disabled webhooks (410 Gone) shared by engines on one store', () => {
  it('keeps every webhook two engines disable at the same moment', async () => {
    const [a, b] = await twoEngines();
    const hooks = Array.from({ length: 6 }, (_, i) => `hook-${i}`);
    await Promise.all(
      hooks.map((name, i) =>
        disableWebhook(i % 2 ? b : a, name, spec(`https://x/${name}`), gone(`run_${i}`)),
      ),
    );
    const live = new Map(hooks.map((name) => [name, spec(`https://x/${name}`)]));
    expect([...(await disabledWebhooks(a, live)).keys()].sort()).toEqual(hooks);
  });

  it('keeps a webhook one engine disables while the other enables another one', async () => {
    const [a, b] = await twoEngines();
    await disableWebhook(a, 'old', spec('https://x/old'), gone('run_1'));
    await Promise.all([
      enableWebhook(b, 'old'),
      disableWebhook(a, 'new', spec('https://x/new'), gone('run_2')),
    ]);
    const live = new Map([
      ['old', spec('https://x/old')],
      ['new', spec('https://x/new')],
    ]);
    expect([...(await disabledWebhooks(b, live)).keys()]).toEqual(['new']);
  });

  it('says why a disabled webhook sends nothing, until its spec changes or it is enabled', async () => {
    const [a, b] = await twoEngines();
    await disableWebhook(a, 'hook', spec('https://x/1'), gone('run_1'));
    expect(await disabledReason(b, 'hook', spec('https://x/1'))).toMatch(
      /^webhook hook: disabled by the receiver \(410 at 2026-11-23T12:00:00.000Z, run run_1\)/,
    );
    expect(await disabledReason(b, 'hook', spec('https://x/2'))).toBeNull();
    expect(await enableWebhook(b, 'hook')).toBe(true);
    expect(await enableWebhook(b, 'hook')).toBe(false);
    expect(await disabledReason(a, 'hook', spec('https://x/1'))).toBeNull();
  });

  /** A data dir at the schema before the disabled_webhooks table, with `value` in the old meta key. */
  async function olderDataDir(value: string): Promise<SqliteStore> {
    dir = mkdtempSync(join(tmpdir(), 'taskops-disabled-'));
    const before = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE disabled_webhooks'));
    const db = new Database(join(dir, STORE_FILE));
    db.exec(
      `CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (${before})`,
    );
    for (const migration of MIGRATIONS.slice(0, before)) db.exec(migration);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('webhooks.disabled', value);
    db.close();
    const store = await openStore(dir);
    opened.push(store);
    return store;
  }

  it('moves the webhooks an older data dir disabled in its meta key into the store, dropping a garbled entry', async () => {
    const entry = { ...gone('run_1'), specHash: specHash(spec('https://x/1')) };
    const store = await olderDataDir(JSON.stringify({ hook: entry, broken: { status: 410 } }));
    expect(await store.getMeta('webhooks.disabled')).toBeUndefined();
    expect(await disabledWebhooks(store, new Map([['hook', spec('https://x/1')]]))).toEqual(
      new Map([['hook', entry]]),
    );
    expect(await store.listDisabledWebhooks()).toEqual(new Map([['hook', entry]]));
  });

  it('opens an older data dir whose meta key does not parse, with nothing disabled', async () => {
    for (const value of ['{not json', '[1, 2]', '"text"']) {
      const store = await olderDataDir(value);
      expect(await store.listDisabledWebhooks()).toEqual(new Map());
      expect(await store.getMeta('webhooks.disabled')).toBeUndefined();
      await store.close();
      rmSync(dir!, { recursive: true, force: true });
    }
  });
});
