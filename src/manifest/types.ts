import type {
  EventTriggerSpec,
  ObjectMetadata,
  ScheduleSpec,
  TagSpec,
  TaskSpec,
  WebhookSpec,
} from './types.generated.js';

export type * from './types.generated.js';

/** Kinds in dependency order: plans and applies list them this way. */
export const KINDS = ['Tag', 'Schedule', 'Webhook', 'Task', 'EventTrigger'] as const;
export type Kind = (typeof KINDS)[number];
export const API_VERSION = 'taskops/v1';

export interface SpecByKind {
  Tag: TagSpec;
  Schedule: ScheduleSpec;
  Webhook: WebhookSpec;
  Task: TaskSpec;
  EventTrigger: EventTriggerSpec;
}

export interface Manifest<K extends Kind = Kind> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMetadata;
  spec: SpecByKind[K];
}

/** A 1-based position in a source file. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** A manifest as read from disk, with where it came from. */
export interface LoadedManifest<K extends Kind = Kind> extends Manifest<K> {
  source: SourceLocation;
}

/** What the source declares at one revision: valid, defaults applied, references resolved. */
export interface DesiredState {
  revision: string;
  manifests: LoadedManifest[];
  /** What the loader found valid but almost certainly not meant (validation warnings), formatted with file:line:col. */
  warnings?: string[];
}

export const objectKey = (kind: Kind, name: string): string => `${kind}/${name}`;
