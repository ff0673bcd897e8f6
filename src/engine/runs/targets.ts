import { builtInDriver } from '../../manifest/drivers.js';
import type { TaskSpec } from '../../manifest/types.js';
import type { DriverRegistry } from '../drivers/index.js';
import type { EngineState } from '../state.js';
import { targetsOf } from '../state.js';

export type ResolvedTargets = { ok: true; targets: Array<string | null> } | { ok: false; error: string };

/**
 * The objects one trigger of `task` acts on. A Tag with `membersOf` is read now, through the driver of
 * its category (a VergeOS tag through the vergeos driver), so what the operator tagged there applies to
 * this very run; every other target comes from the live state.
 */
export async function resolveTargets(
  task: TaskSpec,
  state: EngineState,
  drivers: DriverRegistry,
  /** Made only for a tag read from another system: a timer per run would cost more than the run. */
  signal: () => AbortSignal,
): Promise<ResolvedTargets> {
  // A webhook task's target is its Webhook manifest: one delivery, never one per member.
  if (builtInDriver(task.objectType)?.target === 'webhook')
    return { ok: true, targets: [task.target?.name ?? null] };
  const tagName = task.target?.tag;
  const tag = tagName !== undefined ? state.tags.get(tagName) : undefined;
  if (!tag?.membersOf) return { ok: true, targets: targetsOf(task, state) };
  const driver = drivers.get(tag.category);
  if (!driver?.resolveMembers) {
    return {
      ok: false,
      error: `Tag/${tagName} takes its members from ${Object.keys(tag.membersOf).join(', ')}, but the ${tag.category} driver cannot read them; give ${tag.category} a driver of type vergeos in the engine config`,
    };
  }
  try {
    return { ok: true, targets: await driver.resolveMembers(tag.membersOf, signal()) };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, error: `Tag/${tagName}: its members could not be read: ${why}` };
  }
}
