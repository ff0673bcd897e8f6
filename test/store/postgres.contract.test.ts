import { afterAll, beforeAll } from 'vitest';
import { PostgresStore } from '../../src/store/postgres.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { describeStoreContract } from './contract.js';

// One real server for the file, a fresh database per test.
let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describeStoreContract('PostgreSQL', async () => {
  const url = await server.freshDatabase();
  return {
    store: await PostgresStore.open(url),
    connect: () => PostgresStore.open(url),
    cleanup: async () => undefined,
  };
});
