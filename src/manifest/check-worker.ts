import { parentPort } from 'node:worker_threads';
import { checkFile } from './check-file.js';
import type { CheckRequest, CheckReply } from './check-pool.js';

/** A thread of the check pool: one file at a time, answered in the order asked. */
parentPort!.on('message', ({ id, file, text, defaultZone }: CheckRequest) => {
  let reply: CheckReply;
  try {
    reply = { id, checked: checkFile(file, text, defaultZone) };
  } catch (err) {
    reply = { id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  parentPort!.postMessage(reply);
});
