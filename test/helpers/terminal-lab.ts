import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { contentHash } from '../../src/reconcile/index.js';
import { openStore } from '../../src/store/index.js';
import type { ObjectContent } from '../../src/store/types.js';
import { runCli, type CliResult } from './cli.js';
import { doc, docs } from './engine.js';

export interface TerminalLab {
  /** The temp folder: `manifests/`, `data/`, the config and the failing command. */
  root: string;
  /** `taskops ARGS` on the lab's data dir and config. */
  cli(...args: string[]): Promise<CliResult>;
  /** Writes an object straight into the store, as another version or a hand edit would: nothing validates it. */
  putByHand(kind: string, name: string, spec: Record<string, unknown>): Promise<void>;
}

/**
 * A small lab reconciled into a fresh data dir, for tests of what reaches the operator's terminal:
 * Schedule friday-6pm, Tag lab (category vms, member gpu-ws-01), Task power-off-lab, then `more` documents.
 * The vms driver's power-off runs `failingScript` (node) with the target name, so every run fails with
 * whatever that script writes.
 */
export async function terminalLab(opts: {
  prefix: string;
  failingScript: string;
  more?: string[];
}): Promise<TerminalLab> {
  const root = mkdtempSync(path.join(tmpdir(), opts.prefix));
  writeFileSync(path.join(root, 'failing.mjs'), opts.failingScript);
  const manifests = path.join(root, 'manifests');
  mkdirSync(manifests);
  writeFileSync(
    path.join(manifests, 'm.yaml'),
    docs(
      doc('Schedule', 'friday-6pm', { repeat: { every: 1, unit: 'weeks', on: ['friday'], at: '18:00' } }),
      doc('Tag', 'lab', { category: 'vms', members: ['gpu-ws-01'] }),
      doc('Task', 'power-off-lab', { objectType: 'vms', target: { tag: 'lab' }, action: 'power-off' }),
      ...(opts.more ?? []),
    ),
  );
  const config = path.join(root, 'taskops.config.yaml');
  const action = [process.execPath, path.join(root, 'failing.mjs'), '${NAME}'];
  writeFileSync(
    config,
    stringify({ drivers: { vms: { type: 'command', actions: { 'power-off': action } } } }),
  );
  const dataDir = path.join(root, 'data');
  const cli = (...args: string[]) => runCli(['--data-dir', dataDir, '--config', config, ...args]);
  const reconciled = await cli('reconcile', manifests);
  if (reconciled.code !== 0) throw new Error(`the lab did not reconcile:\n${reconciled.stderr}`);

  const putByHand = async (kind: string, name: string, spec: Record<string, unknown>) => {
    const store = await openStore(dataDir);
    try {
      const metadata = { name };
      const object = { kind, name, metadata, spec, hash: contentHash(metadata, spec) };
      await store.putObjectByHand(object as ObjectContent, new Date());
    } finally {
      await store.close();
    }
  };
  return { root, cli, putByHand };
}
