/** Something outside that brings events into the engine (a VergeOS system's logs and alarms). */
export interface EventSource {
  readonly name: string;
  /** Begins taking events; the first look is at once. */
  start(): void;
  /** Stops taking events and waits for a look in progress. */
  stop(): Promise<void>;
}
