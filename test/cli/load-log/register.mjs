// `node --import ./register.mjs`: logs every module the process loads to $TASKOPS_LOAD_LOG, ESM imports through
// the loader hooks and CommonJS require() calls (a package's own dependencies) through Module._load.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const log = process.env.TASKOPS_LOAD_LOG;
register('./hooks.mjs', import.meta.url, { data: { log } });
const Module = createRequire(import.meta.url)('node:module');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  appendFileSync(log, `require:${request}\n`);
  return load.call(this, request, parent, isMain);
};
