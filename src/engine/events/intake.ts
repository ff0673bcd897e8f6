import type { EngineEvent, Store } from '../../store/types.js';

interface Pending {
  event: EngineEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for incoming events: every event submitted in one turn of the event loop is stored in one
 * transaction. `firesNothing` picks the events no trigger matches: they are stored already processed.
 * `unprocessed` counts the events submitted and not yet processed, for back-pressure.
 */
export class EventIntake {
  private readonly pending: Pending[] = [];
  private inProcess = 0;

  constructor(
    private readonly store: Store,
    private readonly firesNothing: (event: EngineEvent) => boolean,
    private readonly process: (event: EngineEvent) => Promise<void>,
  ) {}

  /** Events waiting to be stored, or stored and not yet processed (their runs not yet stored). */
  get unprocessed(): number {
    return this.pending.length + this.inProcess;
  }

  /** Resolves once the event is durably stored; processing then goes on in the background. */
  submit(event: EngineEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  /** An event another write stored (with a run's end): processed now, and counted until it is. */
  processStored(event: EngineEvent): void {
    this.inProcess++;
    void this.process(event).finally(() => this.inProcess--);
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    const idle = new Set(batch.filter((b) => this.firesNothing(b.event)).map((b) => b.event.id));
    this.inProcess += batch.length - idle.size;
    try {
      await this.store.addEvents(
        batch.map((b) => b.event),
        idle,
      );
    } catch (err) {
      this.inProcess -= batch.length - idle.size;
      batch.forEach((b) => b.reject(err));
      return;
    }
    for (const { event, resolve } of batch) {
      resolve();
      if (!idle.has(event.id)) void this.process(event).finally(() => this.inProcess--);
    }
  }
}
