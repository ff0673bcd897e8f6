import { DRIVER_TYPES } from '../../manifest/drivers.js';
import type { DriverConfig } from '../../manifest/types.js';
import { backoffDelay } from './backoff.js';
import type { Driver, DriverDeps, DriverRequest, DriverResult, MembersSource } from './types.js';
import { unknownAction } from './types.js';
import { VergeosClient, VergeosError, type VergeosResponse } from './vergeos-client.js';
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

/** The per-request outcomes an earlier attempt of the run stored in its details. */
function previousAttempts(previous: unknown): VergeosDetails['attempts'] {
  const attempts = (previous as { attempts?: unknown } | null | undefined)?.attempts;
  return Array.isArray(attempts) ? (attempts as VergeosDetails['attempts']) : [];
}

/** How an answer to vm_actions ends this attempt. */
function actionFailure(client: VergeosClient, action: string, res: VergeosResponse): VergeosError {
  const failure = client.failure(action, res);
  if (res.status !== 507) return failure;
  return new VergeosError(`${failure.message} (insufficient cluster resources)`, true, 507);
}

/**
 * Driver type `vergeos`: power actions on VergeOS VMs through POST /api/v4/vm_actions. VM names become keys
 * through a cached, filtered GET /api/v4/vms. 409 (already in that state) succeeds with a note; 401/403 fail
 * at once. Each call is one attempt: 507, 5xx, 408, 429 and no answer return `retryInMs` (a 429's
 * Retry-After, the request budget's wait, or backoff) while the run has re-attempts left (`retries`, as a
 * Webhook's); the runner delays the run and calls again. The driver never waits itself.
 */
export function createVergeosDriver(
  objectType: string,
  config: DriverConfig,
  deps: DriverDeps = {},
): VergeosDriver {
  const now = deps.now ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const client = new VergeosClient(config, {
    ...(deps.env ? { env: deps.env } : {}),
    ...(deps.readFile ? { readFile: deps.readFile } : {}),
    now,
  });
  const directory = new VergeosDirectory(client, (config.cacheSeconds ?? 300) * 1000, now);
  const retries = config.retries ?? 3;
  const actions: string[] = [...DRIVER_TYPES.vergeos.actions];
  const mappingOf = (action: string) =>
    Object.hasOwn(VERGEOS_VM_ACTIONS, action) ? VERGEOS_VM_ACTIONS[action as VergeosAction] : undefined;

  /** One attempt of the action: at most a look-up (cached) and one POST, or a second pair for a stale key. */
  async function run(req: DriverRequest): Promise<DriverResult> {
    const mapping = mappingOf(req.task.spec.action);
    if (!mapping) return unknownAction(objectType, req.task.spec.action, actions);
    const name = req.target;
    if (name === null)
      return { ok: false, attempts: 0, error: `${objectType} tasks need a target: a VM name or a tag` };
    try {
      client.preflight();
    } catch (err) {
      // Settings that cannot work: nothing was sent, and another attempt would not change that.
      return { ok: false, attempts: 0, error: `vm ${name}: ${errorOf(err).message}` };
    }
    const attempt = req.attempt ?? 1;
    const attempts = [...previousAttempts(req.previous)];
    let key = '';
    const details = (note?: string): VergeosDetails => ({
      vm: { name, key },
      action: mapping.action,
      attempts,
      ...(note ? { note } : {}),
    });
    const succeeded = (note?: string): DriverResult => ({ ok: true, attempts: 1, details: details(note) });
    const failed = (err: VergeosError): DriverResult => {
      const result: DriverResult = { ok: false, attempts: 1, details: details() };
      if (!err.retryable || req.signal.aborted) return { ...result, error: `vm ${name}: ${err.message}` };
      if (attempt > retries) {
        const times = `${attempt} attempt${attempt === 1 ? '' : 's'}`;
        return {
          ...result,
          error: `vm ${name}: gave up after ${times}; last: ${err.message}`,
          exhausted: true,
        };
      }
      return {
        ...result,
        error: `vm ${name}: attempt ${attempt} failed: ${err.message}`,
        retryInMs: err.retryAfterMs ?? backoffDelay(attempt, random),
      };
    };

    const at = now().toISOString();
    try {
      key = await directory.vmKey(name, req.signal);
      let res = await post(key, mapping, req.signal);
      if (res.status === 404) {
        // The cached key is stale (the VM was re-created): look the name up once more, in this attempt.
        directory.forget(name);
        key = await directory.vmKey(name, req.signal);
        res = await post(key, mapping, req.signal);
      }
      attempts.push({ attempt, at, status: res.status, ...(res.err ? { error: res.err } : {}) });
      if (res.status === 200 || res.status === 201) return succeeded();
      if (res.status === 409)
        return succeeded(
          `VergeOS says the VM is already in that state (409${res.err ? `: ${res.err}` : ''}); nothing to do`,
        );
      return failed(actionFailure(client, mapping.action, res));
    } catch (err) {
      const e = errorOf(err);
      attempts.push({
        attempt,
        at,
        ...(e.status !== undefined ? { status: e.status } : {}),
        error: e.message,
      });
      return failed(e);
    }
  }

  function post(
    key: string,
    mapping: { action: string; params: Record<string, unknown> },
    signal: AbortSignal,
  ): Promise<VergeosResponse> {
    return client.call('POST', 'vm_actions', {
      body: { vm: key, action: mapping.action, params: mapping.params },
      signal,
    });
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

function errorOf(err: unknown): VergeosError {
  return err instanceof VergeosError ? err : new VergeosError(String(err), false);
}
