import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres.js';
import { runCli } from '../helpers/cli.js';
import { doc } from '../helpers/engine.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';

let server: PostgresServer;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(path.join(tmpdir(), 'taskops-store-url-'));
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('choosing the store: --store-url, TASKOPS_STORE_URL, store.urlFrom', () => {
  it('reconciles into PostgreSQL by each of the three, and leaves no SQLite file in the data dir', async () => {
    const manifests = path.join(dir, 'manifests');
    const dataDir = path.join(dir, 'data');
    mkdirSync(manifests);
    writeFileSync(path.join(manifests, 'tag.yaml'), doc('Tag', 'vms', { category: 'vms', members: ['a'] }));
    const config = path.join(dir, 'taskops.config.yaml');
    writeFileSync(config, 'store:\n  urlFrom: {env: STORE_URL_FOR_TEST}\n');

    const viaFlag = await server.freshDatabase();
    const viaEnv = await server.freshDatabase();
    const viaConfig = await server.freshDatabase();
    const base = ['--data-dir', dataDir, '--config', config];
    const results = [
      await runCli([...base, '--store-url', viaFlag, 'reconcile', manifests], {
        env: { TASKOPS_STORE_URL: undefined, STORE_URL_FOR_TEST: undefined },
      }),
      await runCli([...base, 'reconcile', manifests], {
        env: { TASKOPS_STORE_URL: viaEnv, STORE_URL_FOR_TEST: viaConfig },
      }),
      await runCli([...base, 'reconcile', manifests], {
        env: { TASKOPS_STORE_URL: undefined, STORE_URL_FOR_TEST: viaConfig },
      }),
    ];
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    for (const url of [viaFlag, viaEnv, viaConfig]) {
      const store = await PostgresStore.open(url);
      expect((await store.listObjects()).map((o) => `${o.kind}/${o.name}`)).toEqual(['Tag/vms']);
      await store.close();
    }
    expect(existsSync(path.join(dataDir, 'taskops.db'))).toBe(false);

    const status = await runCli([...base, 'status', '--output', 'json'], {
      env: { TASKOPS_STORE_URL: viaEnv, STORE_URL_FOR_TEST: undefined },
    });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).objects.Tag.total).toBe(1);
    const get = await runCli([...base, '--store-url', viaFlag, 'get', 'Tag'], {
      env: { TASKOPS_STORE_URL: undefined, STORE_URL_FOR_TEST: undefined },
    });
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toContain('vms');
  });

  it('refuses a URL that is not postgres://, and never prints the password of one it cannot reach', async () => {
    const bad = await runCli(
      ['--data-dir', path.join(dir, 'x'), '--store-url', 'mysql://u:pw@db/x', 'status'],
      {
        env: { TASKOPS_STORE_URL: undefined },
      },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('the store URL must start with postgres:// or postgresql://');
    expect(bad.stderr).not.toContain('pw');

    const down = await runCli(
      [
        '--data-dir',
        path.join(dir, 'x'),
        '--store-url',
        'postgres://app:hunter2@127.0.0.1:1/taskops',
        'status',
      ],
      { env: { TASKOPS_STORE_URL: undefined } },
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('postgres://127.0.0.1:1/taskops is not reachable');
    expect(down.stderr).not.toContain('hunter2');
  });

  it('names a store.urlFrom that cannot be read, by reference and never by value', async () => {
    const config = path.join(dir, 'missing.config.yaml');
    writeFileSync(config, 'store:\n  urlFrom: {env: NOT_SET_ANYWHERE}\n');
    const r = await runCli(['--data-dir', path.join(dir, 'y'), '--config', config, 'status'], {
      env: { TASKOPS_STORE_URL: undefined },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('store.urlFrom: secret {env: NOT_SET_ANYWHERE} is not set');
  });
});
