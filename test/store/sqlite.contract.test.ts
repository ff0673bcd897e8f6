import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskops-contract-'));
  return {
    store: await openStore(dir),
    connect: () => openStore(dir),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
