import { asLive } from '../../src/reconcile/index.js';
import type {
  DesiredState,
  Kind,
  LoadedManifest,
  ObjectMetadata,
  SpecByKind,
  TaskSpec,
  WebhookSpec,
} from '../../src/manifest/types.js';
import type { LiveObject, ManagedBy } from '../../src/store/types.js';

/** Manifests as the loader hands them over: valid and normalized (schema defaults applied). */
export function manifest<K extends Kind>(
  kind: K,
  name: string,
  spec: SpecByKind[K],
  meta: Partial<ObjectMetadata> = {},
): LoadedManifest<K> {
  return {
    apiVersion: 'taskops/v1',
    kind,
    metadata: { name, labels: {}, ...meta },
    spec,
    source: { file: `${kind.toLowerCase()}s.yaml`, line: 1, col: 1 },
  };
}

export const task = (name: string, spec: Partial<TaskSpec> = {}, meta: Partial<ObjectMetadata> = {}) =>
  manifest(
    'Task',
    name,
    { enabled: true, concurrency: 'forbid', objectType: 'vms', action: 'power-on', ...spec },
    meta,
  );

export const tag = (name: string, members: string[] = ['a']) =>
  manifest('Tag', name, { category: 'vms', members });

export const webhook = (name: string, spec: Partial<WebhookSpec> = {}) =>
  manifest('Webhook', name, {
    url: 'https://hooks.example.com/x',
    headers: { 'content-type': 'application/json' },
    timeoutSeconds: 10,
    retries: 3,
    allowInsecureCertificates: false,
    ...spec,
  });

export const desired = (revision: string, ...manifests: LoadedManifest[]): DesiredState => ({
  revision,
  manifests,
});

/** Live objects exactly as a previous apply of these manifests left them (or as made through the API). */
export function live(
  manifests: LoadedManifest[],
  managedBy: ManagedBy = 'taskops',
  revision = 'r0',
): LiveObject[] {
  const updatedAt = '2026-01-01T00:00:00.000Z';
  return asLive({ revision, manifests }).map((o) =>
    managedBy === 'taskops'
      ? { ...o, updatedAt }
      : { ...o, updatedAt, appliedHash: null, managedBy, revision: null },
  );
}
