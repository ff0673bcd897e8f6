import { parentPort } from 'node:worker_threads';
import { checkFile } from './check-file.js';
import type { CheckRequest, CheckReply } from './check-pool.js';

/*
 * yaml's parser reads process.env.LOG_TOKENS once per token (8 million for 110,000 documents), and each read
 * of the real process.env is a call into C++: a quarter of this thread's parsing time. A worker's env is
 * already its own copy, which nothing in this thread writes or hands to a child, so a plain object with the
 * same entries answers the same, in nanoseconds.
 */
Object.defineProperty(process, 'env', {
  value: { ...process.env },
  writable: true,
  enumerable: true,
  configurable: true,
});

/** A thread of the check pool: one file at a time, answered in the order asked. */
parentPort!.on('message', ({ id, file, text, opts }: CheckRequest) => {
  let reply: CheckReply;
  try {
    reply = { id, checked: checkFile(file, text, opts) };
  } catch (err) {
    reply = { id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  parentPort!.postMessage(reply);
});
