import { afterEach } from 'vitest';
import type { Receiver } from './http-receiver.js';
import type { ServeProcess } from './serve-process.js';

/** What one test of a serve with a receiver starts; `servePerTest` ends it after each test, passed or not. */
export interface ServeTest {
  work?: { dir: string; cleanup: () => void };
  server?: ServeProcess;
  receiver?: Receiver;
}

/** Call at the top of a test file: serve killed, receiver closed and work dir removed after each test. */
export function servePerTest(): ServeTest {
  const t: ServeTest = {};
  afterEach(async () => {
    await t.server?.kill('SIGKILL');
    await t.receiver?.close();
    t.work?.cleanup();
    t.server = t.receiver = t.work = undefined;
  });
  return t;
}
