import type { EngineLogger } from '../engine/index.js';
import type { LeaderFence, ReplicaPeer, ReplicaRegistry } from '../store/types.js';

/** `GET /api/v1/status` → `replica`: this replica, the leader it last saw, and every replica with a live heartbeat. */
export interface ReplicaStatus {
  id: string;
  leader: string | null;
  /** True when this replica leads. */
  leading: boolean;
  epoch: number | null;
  peers: ReplicaPeer[];
}

export interface ReplicaMembershipOptions {
  registry: ReplicaRegistry;
  id: string;
  listen: string | null;
  /** How long the leader lease holds without renewal; the lease is renewed and heartbeats sent every third. */
  leaseMs: number;
  logger: EngineLogger;
  /** Called when this replica takes the lease: the new leader follows the source at once. */
  onLead(): void;
}

/**
 * One replica's part in a set sharing a PostgreSQL store: its heartbeat, and a try at the leader lease every
 * third of the lease. While it leads, `fence()` is the token its applies carry; the store refuses them once
 * the lease moved on. A renewal that fails (the store is unreachable) drops leadership here at once: better
 * no leader for a moment than two.
 */
export class ReplicaMembership {
  private timer: NodeJS.Timeout | null = null;
  private term: {
    leader: string;
    epoch: number;
    leading: boolean;
    until: number;
    /** When the holder's lease runs out, by the server's clock. */
    leaseEnds: number;
  } | null = null;
  private stopped = false;

  constructor(private readonly opts: ReplicaMembershipOptions) {}

  get id(): string {
    return this.opts.id;
  }

  /** The fencing token while this replica holds a lease that has not run out by its own clock; else null. */
  fence(): LeaderFence | null {
    const t = this.term;
    return t?.leading && Date.now() < t.until ? { replica: this.opts.id, epoch: t.epoch } : null;
  }

  async start(): Promise<void> {
    await this.tick();
    this.schedule();
  }

  async status(): Promise<ReplicaStatus> {
    const peers = await this.opts.registry.peers(this.opts.leaseMs);
    const t = this.term;
    return {
      id: this.opts.id,
      leader: t?.leader ?? null,
      leading: this.fence() !== null,
      epoch: t?.epoch ?? null,
      peers,
    };
  }

  /** Stops renewing; a leader lets the lease go so another takes over at once, and the heartbeat row goes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const wasLeading = this.fence() !== null;
    this.term = null;
    if (wasLeading) await this.opts.registry.resign(this.opts.id).catch(() => undefined);
    await this.opts.registry.leave(this.opts.id).catch(() => undefined);
  }

  /**
   * Every third of the lease; a replica that does not lead tries again right after the holder's lease runs
   * out, if that is sooner, so a dead leader is replaced within its lease rather than up to a third later.
   */
  private schedule(): void {
    if (this.stopped) return;
    const period = this.opts.leaseMs / 3;
    const t = this.term;
    const delay = t && !t.leading ? Math.min(period, Math.max(25, t.leaseEnds - Date.now() + 25)) : period;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, delay);
  }

  private async tick(): Promise<void> {
    const { registry, id, listen, leaseMs, logger } = this.opts;
    const asked = Date.now();
    try {
      await registry.heartbeat(id, listen);
      const term = await registry.lead(id, leaseMs);
      const wasLeading = this.term?.leading ?? false;
      // Counted from before the request: the server's lease may have started earlier, never later.
      this.term = {
        leader: term.leader,
        epoch: term.epoch,
        leading: term.leading,
        until: asked + leaseMs,
        leaseEnds: term.leaseUntil.getTime(),
      };
      if (term.leading && !wasLeading) {
        logger.info('this replica leads: it follows the source and applies', {
          replica: id,
          epoch: term.epoch,
        });
        this.opts.onLead();
      } else if (!term.leading && wasLeading) {
        logger.warn('this replica lost the leader lease', {
          replica: id,
          leader: term.leader,
          epoch: term.epoch,
        });
      }
    } catch (err) {
      if (this.term?.leading)
        logger.warn('could not renew the leader lease: not leading until it is renewed', { replica: id });
      this.term = this.term ? { ...this.term, leading: false } : null;
      logger.error('replica heartbeat failed', { replica: id, error: String(err) });
    }
  }
}
