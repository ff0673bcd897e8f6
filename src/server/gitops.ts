import { watch, type FSWatcher } from 'chokidar';
import { systemClock, type Clock, type Engine, type EngineLogger } from '../engine/index.js';
import { formatProblem, type Kind } from '../manifest/index.js';
import {
  ObjectSources,
  reconcileOnce,
  type LoadDesiredOptions,
  type ReconcileOutcome,
  type SafetyOptions,
} from '../reconcile/index.js';
import type { Source } from '../source/index.js';
import type { LeaderFence, Store, SyncStatusRecord } from '../store/types.js';
import { redactCredentials } from '../text/redact.js';
import type { Metrics } from './metrics.js';
import type { ObjectSource, SyncController, SyncOutcome } from './types.js';

export interface GitOpsOptions {
  source: Source;
  /** Set for a plain folder: changes are watched (debounced) besides the poll. */
  watchFolder?: string;
  store: Store;
  engine: Engine;
  dataDir: string;
  metrics: Metrics;
  logger: EngineLogger;
  autoApply: boolean;
  safety: SafetyOptions;
  /** How manifests are loaded: drivers, default zone, and how files are named in problems. */
  load: Omit<LoadDesiredOptions, 'revision'>;
  /** The poll timer and the watch debounce run on it (tests pass a ManualClock). */
  clock?: Clock;
  /**
   * With replicas: only the leader follows the source, and its applies carry the fencing token. A replica
   * that does not lead answers a sync with the leader's last recorded attempt.
   */
  leadership?: { fence(): LeaderFence | null };
}

const WATCH_DEBOUNCE_MS = 300;

/**
 * Follows the source: one reconcile step per fetch (reconcileOnce), then reloads the engine after an apply.
 * A failed attempt leaves the last good state running, is kept in the store's sync status and emits
 * `system/reconcile-failed` once per failing revision.
 */
export class GitOpsLoop implements SyncController {
  private current: Promise<SyncOutcome> | null = null;
  private again = false;
  private cancelPoll: (() => void) | null = null;
  private cancelDebounce: (() => void) | null = null;
  private watcher: FSWatcher | null = null;
  private readonly clock: Clock;
  /**
   * Where each object of the live revision is declared. Memory is enough: every start syncs first. Only an
   * applied or unchanged outcome replaces it, since the live objects then are that revision's.
   */
  private sources = ObjectSources.none;

  constructor(private readonly opts: GitOpsOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  describe(): { source: string; autoApply: boolean } {
    return { source: redactCredentials(this.opts.source.describe()), autoApply: this.opts.autoApply };
  }

  sourceOf(kind: Kind, name: string): ObjectSource | undefined {
    const source = this.sources.get(kind, name);
    return source && { file: source.file, line: source.line };
  }

  /** One sync at a time; a request during a sync runs once more after it, so no commit is missed. */
  syncNow(): Promise<SyncOutcome> {
    if (this.current) {
      this.again = true;
      return this.current;
    }
    this.current = this.syncOnce().finally(() => {
      this.current = null;
      if (this.again) {
        this.again = false;
        this.syncInBackground();
      }
    });
    return this.current;
  }

  /** Arms the poll and, for a folder, resolves once the watcher has read the tree (later edits all count). */
  async start(pollIntervalMs: number): Promise<void> {
    const arm = () => {
      this.cancelPoll = this.clock.setTimer(new Date(this.clock.now().getTime() + pollIntervalMs), () => {
        arm();
        this.syncInBackground();
      });
    };
    arm();
    const folder = this.opts.watchFolder;
    if (folder) {
      this.watcher = watch(folder, {
        ignoreInitial: true,
        ignored: (p: string) => /(^|[\\/])(\.[^\\/]+|node_modules)([\\/]|$)/.test(p.slice(folder.length)),
      });
      this.watcher.on('all', () => {
        this.cancelDebounce?.();
        // Editors write a file in several steps; one sync after the burst.
        const at = new Date(this.clock.now().getTime() + WATCH_DEBOUNCE_MS);
        this.cancelDebounce = this.clock.setTimer(at, () => this.syncInBackground());
      });
      // An edit made before the first scan ends would count as initial content and be missed.
      const watcher = this.watcher;
      await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    }
  }

  async stop(): Promise<void> {
    this.cancelPoll?.();
    this.cancelDebounce?.();
    await this.watcher?.close();
    await this.current?.catch(() => undefined);
  }

  /** A sync nobody waits for: its failure is already logged by syncOnce. */
  private syncInBackground(): void {
    this.syncNow().catch(() => undefined);
  }

  private async syncOnce(): Promise<SyncOutcome> {
    const { store, engine, logger, metrics } = this.opts;
    const fence = this.opts.leadership?.fence();
    if (fence === null) return followerOutcome(await store.getSyncStatus());
    let previous: SyncStatusRecord | null;
    let outcome: ReconcileOutcome;
    try {
      previous = await store.getSyncStatus();
      outcome = await reconcileOnce(this.opts.source, store, this.clock, {
        dataDir: this.opts.dataDir,
        mode: this.opts.autoApply ? 'apply' : 'plan',
        record: true,
        safety: this.opts.safety,
        load: this.opts.load,
        detail: false,
        ...(fence ? { fence } : {}),
      });
    } catch (err) {
      // Not a verdict on the revision: the store failed, and the next poll tries again.
      metrics.reconciled('error', null);
      logger.error('reconcile failed', {
        error: redactCredentials(err instanceof Error ? err.message : String(err)),
      });
      throw err;
    }
    metrics.reconciled(outcome.reason, outcome.reason === 'applied' ? outcome.at : null);
    if (outcome.sources && (outcome.reason === 'applied' || outcome.reason === 'unchanged')) {
      // Kept as the reconcile made them (one per object, 100,000s): a copy was another of each at once.
      this.sources = outcome.sources;
    }
    if (outcome.reason === 'applied') {
      // The plan holds the content of every change (every object on a first sync): let it go before the
      // engine reads the applied state back, so that the two copies are not in memory at once.
      outcome = { ...outcome, plan: null };
      await engine.reload();
      logger.info('applied revision', { revision: outcome.revision, ...outcome.summary });
    }
    if (!outcome.ok) await this.reportFailure(outcome, previous);
    return syncOutcome(outcome);
  }

  private async reportFailure(outcome: ReconcileOutcome, previous: SyncStatusRecord | null): Promise<void> {
    const problems = outcome.problems.map(formatProblem);
    const message = outcome.message ?? outcome.reason;
    this.opts.logger.warn('revision refused; the last good state keeps running', {
      reason: outcome.reason,
      revision: outcome.revision,
      message,
      problems,
    });
    // One event per failing revision, not one per poll (nor per restart), so alert tasks fire once.
    const last = previous?.lastAttempt;
    if (last && last.revision === outcome.revision && last.message === outcome.message) return;
    await this.opts.engine
      .submitEvent(
        {
          type: 'system',
          name: 'reconcile-failed',
          object: outcome.revision,
          fields: {
            reason: outcome.reason,
            message,
            revision: outcome.revision ?? '',
            firstProblem: problems[0] ?? message,
          },
        },
        true,
      )
      .catch((err: unknown) =>
        this.opts.logger.error('could not emit system/reconcile-failed', { error: String(err) }),
      );
  }
}

/** A replica that does not lead fetches nothing: it answers with the leader's last recorded attempt. */
function followerOutcome(record: SyncStatusRecord | null): SyncOutcome {
  const last = record?.lastAttempt;
  return {
    outcome: last?.reason ?? 'pending',
    revision: last?.revision ?? null,
    summary: last ? { ...last.summary } : { create: 0, update: 0, delete: 0 },
    error: null,
  };
}

/** The outcome as `POST /api/v1/sync` answers it. */
export function syncOutcome(outcome: ReconcileOutcome): SyncOutcome {
  return {
    outcome: outcome.reason,
    revision: outcome.revision,
    summary: { ...outcome.summary },
    error: outcome.ok
      ? null
      : {
          revision: outcome.revision,
          at: outcome.at.toISOString(),
          reason: outcome.reason,
          message: outcome.message ?? outcome.reason,
          problems: outcome.problems.map(formatProblem),
        },
  };
}
