import type { Path } from './schema-errors.js';
import { BUILT_IN_DRIVERS, builtInDriver } from './drivers.js';
import { closest } from './suggest.js';
import {
  objectKey,
  type EventTriggerSpec,
  type Kind,
  type LoadedManifest,
  type TagSpec,
  type TaskSpec,
} from './types.js';

export interface ReferenceFinding {
  manifest: LoadedManifest;
  path: Path;
  message: string;
}

/** What the engine's drivers offer: object type → actions. Absent when no engine config is at hand. */
export type DriverCatalog = Record<string, readonly string[]>;

export interface ReferenceCheck {
  errors: ReferenceFinding[];
  /** What could not be checked for lack of an engine config (object types, secret references): not errors. */
  unchecked: ReferenceFinding[];
}

/** Cross-document checks: every name a manifest mentions must exist and fit. */
export function checkReferences(
  manifests: LoadedManifest[],
  catalog?: DriverCatalog,
  /** `Kind/name` of documents that are declared but invalid: already reported, so never "does not exist". */
  declaredButInvalid: ReadonlySet<string> = new Set(),
): ReferenceCheck {
  const byKind = new Map<Kind, Map<string, LoadedManifest>>();
  for (const m of manifests) {
    if (!byKind.has(m.kind)) byKind.set(m.kind, new Map());
    byKind.get(m.kind)!.set(m.metadata.name, m);
  }
  const names = (kind: Kind) => [...(byKind.get(kind)?.keys() ?? [])];
  const errors: ReferenceFinding[] = [];
  const unchecked: ReferenceFinding[] = [];
  const missing = (manifest: LoadedManifest, path: Path, kind: Kind, name: string) => {
    if (declaredButInvalid.has(objectKey(kind, name))) return;
    const hint = closest(name, names(kind));
    errors.push({
      manifest,
      path,
      message: `${objectKey(kind, name)} does not exist${hint ? ` (did you mean ${hint}?)` : ''}`,
    });
  };

  for (const m of manifests) {
    if (m.kind === 'Task') {
      const spec = m.spec as TaskSpec;
      (spec.schedules ?? []).forEach((s, i) => {
        if (!byKind.get('Schedule')?.has(s)) missing(m, ['spec', 'schedules', i], 'Schedule', s);
      });
      const tagName = spec.target?.tag;
      if (tagName !== undefined) {
        const tag = byKind.get('Tag')?.get(tagName);
        if (!tag) missing(m, ['spec', 'target', 'tag'], 'Tag', tagName);
        else if ((tag.spec as TagSpec).category !== spec.objectType) {
          errors.push({
            manifest: m,
            path: ['spec', 'target', 'tag'],
            message: `Tag/${tagName} groups ${(tag.spec as TagSpec).category}, but this task acts on ${spec.objectType}`,
          });
        }
      }
      if (
        builtInDriver(spec.objectType)?.target === 'webhook' &&
        spec.target?.name !== undefined &&
        !byKind.get('Webhook')?.has(spec.target.name)
      ) {
        missing(m, ['spec', 'target', 'name'], 'Webhook', spec.target.name);
      }
      checkDriver(m, spec, catalog, errors, unchecked);
    } else if (m.kind === 'EventTrigger') {
      const spec = m.spec as EventTriggerSpec;
      spec.tasks.forEach((t, i) => {
        if (!byKind.get('Task')?.has(t)) missing(m, ['spec', 'tasks', i], 'Task', t);
      });
      const eventTag = spec.event.tag !== undefined ? byKind.get('Tag')?.get(spec.event.tag) : undefined;
      if (spec.event.tag !== undefined && !eventTag) {
        missing(m, ['spec', 'event', 'tag'], 'Tag', spec.event.tag);
      } else if (eventTag && (eventTag.spec as TagSpec).membersOf) {
        // Matching an event must not wait on a remote system; such members are read only when a task runs.
        errors.push({
          manifest: m,
          path: ['spec', 'event', 'tag'],
          message: `Tag/${spec.event.tag} takes its members from membersOf at run time, so events cannot be matched against it; use event.object, or a Tag with members`,
        });
      }
    }
  }
  return { errors, unchecked };
}

function checkDriver(
  m: LoadedManifest,
  spec: TaskSpec,
  catalog: DriverCatalog | undefined,
  errors: ReferenceFinding[],
  unchecked: ReferenceFinding[],
): void {
  if (builtInDriver(spec.objectType)) return;
  if (!catalog) {
    unchecked.push({
      manifest: m,
      path: ['spec', 'objectType'],
      message: `objectType ${spec.objectType} is not built in; unchecked without an engine config (--config)`,
    });
    return;
  }
  const actions = catalog[spec.objectType];
  if (!actions) {
    const known = [...new Set([...Object.keys(BUILT_IN_DRIVERS), ...Object.keys(catalog)])].sort();
    errors.push({
      manifest: m,
      path: ['spec', 'objectType'],
      message: `no driver for objectType ${spec.objectType} in the engine config; known: ${known.join(', ')}`,
    });
  } else if (!actions.includes(spec.action)) {
    errors.push({
      manifest: m,
      path: ['spec', 'action'],
      message: `the ${spec.objectType} driver has no action ${spec.action}; it offers ${[...actions].sort().join(', ')}`,
    });
  }
}
