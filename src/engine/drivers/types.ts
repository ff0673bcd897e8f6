import type { AgentOptions } from 'node:http';
import type { LookupFunction } from 'node:net';
import type { TemplateVars } from '../../manifest/template.js';
import type { TagSpec, TaskSpec, WebhookSpec } from '../../manifest/types.js';
import type { DeliveryIdentity } from '../../store/types.js';
import type { ReadFile } from '../secrets.js';

/** One execution of a task's action on one target. */
export interface DriverRequest {
  runId: string;
  task: { name: string; spec: TaskSpec };
  /** This member's / object's name (${NAME}); null when the task has no target. */
  target: string | null;
  vars: TemplateVars;
  /** The resolved Webhook, for objectType webhook. */
  webhook?: { name: string; spec: WebhookSpec };
  /** Aborted on task timeout, replace or shutdown; its reason is shown in the error. */
  signal: AbortSignal;
  /** The run's attempt this call makes (1 for the first; default 1). A driver makes one attempt per call. */
  attempt?: number;
  /** What `prepare` fixed before the run's first attempt, reused by every attempt (default: made now). */
  delivery?: DeliveryIdentity | null;
  /** The details the run's previous attempt returned, for drivers that keep a history across attempts. */
  previous?: unknown;
}

export interface AttemptOutcome {
  attempt: number;
  /** ISO 8601 start of the attempt. */
  at: string;
  status?: number;
  error?: string;
  durationMs: number;
}

export interface DriverResult {
  ok: boolean;
  attempts: number;
  /** What went wrong, for people: never holds a secret value. */
  error?: string;
  /** Driver-specific: attempts: AttemptOutcome[] (webhook), exitCode/stdout/stderr (command), ... */
  details?: unknown;
  /** Webhook: every allowed attempt failed with a retryable outcome. */
  exhausted?: boolean;
  /**
   * The attempt failed, and another one may succeed and is allowed: the engine delays the run this long
   * (backoff, or what the receiver asked for) and calls the driver again. Drivers never wait themselves.
   */
  retryInMs?: number;
  /** Webhook: the receiver answered 410 Gone; the engine disables the webhook until it changes or is re-enabled. */
  disable?: { status: number; at: string };
  /** The last attempt's own error, without the run's summary around it (webhooks/exhausted events carry it). */
  lastError?: string;
}

/** Where a Tag takes its members from at run time (`membersOf`), instead of a list in the manifest. */
export type MembersSource = NonNullable<TagSpec['membersOf']>;

export interface Driver {
  readonly objectType: string;
  actions(): string[];
  /** Resolves with a result for every outcome, failures included; never rejects for a delivery problem. */
  run(req: DriverRequest): Promise<DriverResult>;
  /**
   * Fixes what must stay the same on every attempt of a run (a webhook's id and rendered body), before the
   * first one; the engine stores it on the run and passes it back as `req.delivery`. Null: nothing to fix.
   */
  prepare?(req: DriverRequest): DeliveryIdentity | null;
  /**
   * The member names of a Tag whose members come from this driver's system (`membersOf`), read when a
   * task runs; rejects with a message for people when they cannot be read.
   */
  resolveMembers?(source: MembersSource, signal: AbortSignal): Promise<string[]>;
  /** Releases sockets and connections (engine shutdown). */
  close?(): Promise<void>;
}

/** Effects a driver needs, injectable so tests control time, randomness and the environment. */
export interface DriverDeps {
  env?: NodeJS.ProcessEnv;
  readFile?: ReadFile;
  /** [0, 1) for backoff jitter. */
  random?(): number;
  now?(): Date;
  /** Merged into the keep-alive HTTP(S) agents of the webhook driver. */
  httpAgentOptions?: AgentOptions;
  /** Resolves webhook host names (default dns.lookup); the destination rules check what it answers. */
  lookup?: LookupFunction;
  /** A Standard Webhooks message id; default msg_<uuid>. */
  newMessageId?(): string;
  /** Command driver: wait between SIGTERM and SIGKILL; default 5000 ms. */
  killGraceMs?: number;
}

export interface DriverRegistry {
  get(objectType: string): Driver | undefined;
  /** Object type → actions, for validation and the API. */
  catalog(): Record<string, string[]>;
  close(): Promise<void>;
}

/** The engine config declares a driver that cannot be built. */
export class DriverConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriverConfigError';
  }
}

/** The reason an AbortSignal carries, as text for an error message. */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' && reason ? reason : 'the run was stopped';
}

export function unknownAction(objectType: string, action: string, actions: string[]): DriverResult {
  return {
    ok: false,
    attempts: 0,
    error: `${objectType} has no action ${action}; it offers: ${actions.join(', ') || '(none)'}`,
  };
}
