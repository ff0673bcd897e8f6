import { DRIVER_TYPES } from '../../manifest/drivers.js';
import type { DriverConfig } from '../../manifest/types.js';
import { backoffDelay, defaultSleep } from './backoff.js';
import type { Driver, DriverDeps, DriverRequest, DriverResult, MembersSource } from './types.js';
import { abortReason, unknownAction } from './types.js';
import { VergeosClient, VergeosError } from './vergeos-client.js';
import { VergeosDirectory } from './vergeos-directory.js';

type VergeosAction = (typeof DRIVER_TYPES.vergeos.actions)[number];

/** Each declared action (manifest/drivers.ts) → the VergeOS vm_actions action and its params (api-vm-power-management.md). */
export const VERGEOS_VM_ACTIONS: Readonly<
  Record<VergeosAction, { action: string; params: Record<string, unknown> }>
> = {
  'power-on': { action: 'poweron', params: {} },
  'power-off': { action: 'poweroff', params: {} },
  kill: { action: 'kill', params: {} },
  reset: { action: 'reset', params: { graceful: true } },
};

export interface VergeosDetails {
  vm: { name: string; key: string };
  action: string;
  attempts: Array<{ attempt: number; at: string; status?: number; error?: string }>;
  /** A 409: VergeOS says the VM is already in the state asked for. */
  note?: string;
}

/** A vergeos driver exposes its client, so an event source can share its URL, credentials and request budget. */
export interface VergeosDriver extends Driver {
  readonly client: VergeosClient;
}

/**
 * Driver type `vergeos`: power actions on VergeOS VMs through POST /api/v4/vm_actions. VM names become keys
 * through a cached, filtered GET /api/v4/vms. 409 (already in that state) succeeds with a note; 507, 5xx,
 * 408, 429 and no answer are retried up to `retries` times with backoff; 401/403 fail at once.
 */
export function createVergeosDriver(
  objectType: string,
  config: DriverConfig,
  deps: DriverDeps = {},
): VergeosDriver {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const client = new VergeosClient(config, {
    ...(deps.env ? { env: deps.env } : {}),
    ...(deps.readFile ? { readFile: deps.readFile } : {}),
    now,
    sleep,
  });
  const directory = new VergeosDirectory(client, (config.cacheSeconds ?? 300) * 1000, now);
  const retries = config.retries ?? 3;
  const actions: string[] = [...DRIVER_TYPES.vergeos.actions];
  const mappingOf = (action: string) =>
    Object.hasOwn(VERGEOS_VM_ACTIONS, action) ? VERGEOS_VM_ACTIONS[action as VergeosAction] : undefined;

  async function run(req: DriverRequest): Promise<DriverResult> {
    const mapping = mappingOf(req.task.spec.action);
    if (!mapping) return unknownAction(objectType, req.task.spec.action, actions);
    const name = req.target;
    if (name === null)
      return { ok: false, attempts: 0, error: `${objectType} tasks need a target: a VM name or a tag` };
    const attempts: VergeosDetails['attempts'] = [];
    const details = (vmKey: string, note?: string): VergeosDetails => ({
      vm: { name, key: vmKey },
      action: mapping.action,
      attempts,
      ...(note ? { note } : {}),
    });
    const fail = (err: unknown, vmKey = ''): DriverResult => {
      const e = err instanceof VergeosError ? err : new VergeosError(String(err), false);
      return {
        ok: false,
        attempts: attempts.length,
        error: `vm ${name}: ${e.message}`,
        details: details(vmKey),
        ...(e.retryable ? { retryable: true } : {}),
        ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
      };
    };

    let key: string;
    let refreshed = false;
    try {
      key = await directory.vmKey(name, req.signal);
    } catch (err) {
      return fail(err);
    }
    for (let attempt = 1; ; attempt++) {
      const at = now();
      let last: VergeosError;
      try {
        const res = await client.call('POST', 'vm_actions', {
          body: { vm: key, action: mapping.action, params: mapping.params },
          signal: req.signal,
        });
        attempts.push({
          attempt,
          at: at.toISOString(),
          status: res.status,
          ...(res.err ? { error: res.err } : {}),
        });
        if (res.status === 200 || res.status === 201)
          return { ok: true, attempts: attempts.length, details: details(key) };
        if (res.status === 409) {
          const note = `VergeOS says the VM is already in that state (409${res.err ? `: ${res.err}` : ''}); nothing to do`;
          return { ok: true, attempts: attempts.length, details: details(key, note) };
        }
        if (res.status === 404 && !refreshed) {
          // The cached key is stale (the VM was re-created): look the name up once more.
          refreshed = true;
          directory.forget(name);
          key = await directory.vmKey(name, req.signal);
          continue;
        }
        last = client.failure(`${mapping.action}`, res);
        if (res.status === 507)
          last = new VergeosError(`${last.message} (insufficient cluster resources)`, true, 507);
      } catch (err) {
        last = err instanceof VergeosError ? err : new VergeosError(String(err), false);
        attempts.push({ attempt, at: at.toISOString(), error: last.message });
      }
      if (!last.retryable || attempt > retries || last.retryAfterMs !== undefined) {
        const result = fail(last, key);
        if (last.retryable && attempt > retries) {
          result.error = `vm ${name}: gave up after ${attempts.length} attempts; last: ${last.message}`;
          result.exhausted = true;
        }
        return result;
      }
      try {
        await sleep(backoffDelay(attempt, random), req.signal);
      } catch {
        return fail(
          new VergeosError(`stopped while waiting to retry: ${abortReason(req.signal)}`, false),
          key,
        );
      }
    }
  }

  return {
    objectType,
    client,
    actions: () => [...actions],
    run,
    resolveMembers: (source: MembersSource, signal: AbortSignal) => {
      if (!source.vergeos) return Promise.reject(new VergeosError('membersOf names no vergeos tag', false));
      return directory.tagMembers(source.vergeos.tag, source.vergeos.tagCategory, signal);
    },
    close: () => client.close(),
  };
}
