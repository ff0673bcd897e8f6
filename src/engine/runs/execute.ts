import type { TemplateVars } from '../../manifest/template.js';
import { builtInDriver } from '../../manifest/drivers.js';
import type { TaskSpec } from '../../manifest/types.js';
import type { DeliveryIdentity, EngineEvent, RunRecord } from '../../store/types.js';
import type { Driver, DriverRegistry, DriverRequest, DriverResult } from '../drivers/index.js';
import type { EngineState } from '../state.js';

export interface ExecuteInput {
  run: RunRecord;
  task: TaskSpec;
  state: EngineState;
  drivers: DriverRegistry;
  event: EngineEvent | null;
  now: Date;
  zone: string;
  random(): number;
  signal: AbortSignal;
}

/** The driver and its request for one attempt of a run, or why there is none (a failed result). */
function driverCall(input: ExecuteInput): { driver: Driver; req: DriverRequest } | DriverResult {
  const { run, task, state, drivers, event } = input;
  const driver = drivers.get(task.objectType);
  if (!driver) {
    return {
      ok: false,
      attempts: 0,
      error: `no driver for objectType ${task.objectType} in the engine config`,
    };
  }
  const declared = builtInDriver(task.objectType);
  const vars: TemplateVars = {
    now: input.now,
    zone: input.zone,
    random: input.random,
    // Webhook and email tasks report on the event's object (the sync that failed); others act on their target.
    name: declared?.nameIsEventObject ? (event?.object ?? run.target.name) : run.target.name,
    task: run.task,
    runId: run.runId,
    ...(event ? { event: { type: event.type, name: event.name, fields: event.fields } } : {}),
  };
  let webhook: DriverRequest['webhook'];
  if (declared?.target === 'webhook') {
    const name = task.target?.name ?? '';
    const spec = state.webhooks.get(name);
    if (!spec) return { ok: false, attempts: 0, error: `Webhook/${name} does not exist in the live state` };
    webhook = { name, spec };
  }
  return { driver, req: new LazySignalRequest(input, vars, webhook) };
}

/**
 * A driver's request whose abort signal is read from the run's input only if the driver asks (a run's
 * signal is made on first use). The getter sits on the prototype: a getter in an object literal is a new
 * closure per object and gives each object a hidden class of its own, kept in old space, and through it the
 * young collections kept every run's objects (≈ 1.2 MB copied by each under load; a full GC found them dead).
 */
class LazySignalRequest implements DriverRequest {
  readonly runId: string;
  readonly task: DriverRequest['task'];
  readonly target: string | null;
  readonly attempt: number;
  readonly delivery: DeliveryIdentity | null;
  readonly previous: unknown;
  declare readonly webhook?: DriverRequest['webhook'];

  constructor(
    private readonly input: ExecuteInput,
    readonly vars: TemplateVars,
    webhook: DriverRequest['webhook'],
  ) {
    const { run } = input;
    this.runId = run.runId;
    this.task = { name: run.task, spec: input.task };
    this.target = run.target.name;
    this.attempt = Math.max(1, run.attempts);
    this.delivery = run.delivery;
    this.previous = run.details;
    // Only when there is one, as before: `'webhook' in req` and key listings stay the same.
    if (webhook) (this as { webhook?: DriverRequest['webhook'] }).webhook = webhook;
  }

  get signal(): AbortSignal {
    return this.input.signal;
  }
}

/** What the run's driver fixes before the first attempt (a webhook's id and body); null when nothing. */
export function prepareDelivery(input: ExecuteInput): DeliveryIdentity | null {
  if (input.run.delivery) return input.run.delivery;
  if (!input.drivers.get(input.task.objectType)?.prepare) return null;
  const call = driverCall(input);
  return 'driver' in call ? (call.driver.prepare?.(call.req) ?? null) : null;
}

/** Runs one attempt of a task action on one target through its driver; every outcome becomes a DriverResult. */
export async function executeRun(input: ExecuteInput): Promise<DriverResult> {
  const call = driverCall(input);
  if (!('driver' in call)) return call;
  try {
    return await call.driver.run(call.req);
  } catch (err) {
    return { ok: false, attempts: 1, error: err instanceof Error ? err.message : String(err) };
  }
}
