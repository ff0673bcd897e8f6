import { watch, type FSWatcher } from 'chokidar';
import type { Engine, EngineLogger } from '../engine/index.js';
import { ManifestError, formatProblem, type DriverCatalog, type SecretPolicy } from '../manifest/index.js';
import { apply, diff, loadDesired, PlanSafetyError, type SafetyOptions } from '../reconcile/index.js';
import { SourceError, type Source } from '../source/index.js';
import type { Store } from '../store/types.js';
import { redactCredentials } from '../text/redact.js';
import type { Metrics } from './metrics.js';
import type { SyncController, SyncError, SyncOutcome, SyncStatus } from './types.js';

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
  driverCatalog: DriverCatalog;
  /** The engine's secrets allowlist: a revision referencing anything else is refused. */
  secretPolicy: SecretPolicy;
  defaultZone: string;
  /** How files are named in problems (the folder as given, or the repo's subfolder). */
  displayRoot: string;
  now?: () => Date;
}

const NO_CHANGES = { create: 0, update: 0, delete: 0 };
const WATCH_DEBOUNCE_MS = 300;

/**
 * Follows the source: fetch → validate → diff → apply → reload the engine. A refused revision leaves the
 * last good state running, is shown in the status and emits `system/reconcile-failed`.
 */
export class GitOpsLoop implements SyncController {
  private current: Promise<SyncOutcome> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private lastAttemptAt: string | null = null;
  private lastGoodRevision: string | null = null;
  private lastError: SyncError | null = null;
  private pending: SyncStatus['pending'] = null;
  private readonly now: () => Date;

  constructor(private readonly opts: GitOpsOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  status(): SyncStatus {
    return {
      source: redactCredentials(this.opts.source.describe()),
      autoApply: this.opts.autoApply,
      lastAttemptAt: this.lastAttemptAt,
      lastGoodRevision: this.lastGoodRevision,
      lastError: this.lastError,
      pending: this.pending,
    };
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
        void this.syncNow();
      }
    });
    return this.current;
  }

  start(pollIntervalMs: number): void {
    this.timer = setInterval(() => void this.syncNow(), pollIntervalMs);
    if (this.opts.watchFolder) {
      this.watcher = watch(this.opts.watchFolder, {
        ignoreInitial: true,
        ignored: (p: string) =>
          /(^|[\\/])(\.[^\\/]+|node_modules)([\\/]|$)/.test(p.slice(this.opts.watchFolder!.length)),
      });
      this.watcher.on('all', () => {
        if (this.debounce) clearTimeout(this.debounce);
        // Editors write a file in several steps; one sync after the burst.
        this.debounce = setTimeout(() => void this.syncNow(), WATCH_DEBOUNCE_MS);
      });
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    await this.watcher?.close();
    await this.current?.catch(() => undefined);
  }

  private async syncOnce(): Promise<SyncOutcome> {
    const at = this.now();
    this.lastAttemptAt = at.toISOString();
    let revision: string | null = null;
    try {
      const snap = await this.opts.source.fetch();
      revision = snap.revision;
      try {
        const state = await loadDesired(snap.root, {
          revision,
          driverCatalog: this.opts.driverCatalog,
          secretPolicy: this.opts.secretPolicy,
          defaultZone: this.opts.defaultZone,
          displayRoot: this.opts.displayRoot,
        });
        const store = this.opts.store;
        const generation = await store.generation();
        const plan = diff(state, await store.listObjects());
        const applied = await store.getAppliedRevision();
        if (plan.changes.length === 0 && applied?.revision === revision) {
          return this.succeeded('unchanged', revision, NO_CHANGES, null);
        }
        if (!this.opts.autoApply) {
          this.pending = plan.changes.length > 0 ? { ...plan.summary } : null;
          this.opts.metrics.reconciled('pending', null);
          return { outcome: 'pending', revision, summary: { ...plan.summary }, error: null };
        }
        await apply(plan, store, {
          at,
          dataDir: this.opts.dataDir,
          ...this.opts.safety,
          expectGeneration: generation,
        });
        await this.opts.engine.reload();
        this.opts.logger.info('applied revision', { revision, ...plan.summary });
        return this.succeeded('applied', revision, { ...plan.summary }, at);
      } finally {
        await snap.cleanup?.();
      }
    } catch (err) {
      return this.refused(err, revision, at);
    }
  }

  private succeeded(
    outcome: 'applied' | 'unchanged',
    revision: string,
    summary: SyncOutcome['summary'],
    appliedAt: Date | null,
  ): SyncOutcome {
    this.lastGoodRevision = revision;
    this.lastError = null;
    this.pending = null;
    this.opts.metrics.reconciled(outcome, appliedAt);
    return { outcome, revision, summary, error: null };
  }

  private async refused(err: unknown, revision: string | null, at: Date): Promise<SyncOutcome> {
    const known =
      err instanceof ManifestError || err instanceof SourceError || err instanceof PlanSafetyError;
    if (!known) this.opts.logger.error('reconcile failed', { error: redactCredentials(String(err)) });
    const problems =
      err instanceof ManifestError ? err.problems.map(formatProblem).map(redactCredentials) : [];
    // The status, the log and the event (which a committer may chain a webhook to) never show a credential.
    const message = redactCredentials(
      err instanceof ManifestError
        ? `${problems.length} invalid manifest(s); nothing applied`
        : (err as Error).message,
    );
    const repeated = this.lastError?.revision === revision && this.lastError?.message === message;
    this.lastError = { revision, at: at.toISOString(), message, problems };
    this.opts.metrics.reconciled('refused', null);
    this.opts.logger.warn('revision refused; the last good state keeps running', {
      revision,
      message,
      problems,
    });
    // One event per refused revision, not one per poll, so alert tasks fire once.
    if (!repeated) {
      await this.opts.engine
        .submitEvent(
          {
            type: 'system',
            name: 'reconcile-failed',
            object: revision,
            fields: { message, revision: revision ?? '', firstProblem: problems[0] ?? message },
          },
          true,
        )
        .catch(() => undefined);
    }
    return { outcome: 'refused', revision, summary: NO_CHANGES, error: this.lastError };
  }
}
