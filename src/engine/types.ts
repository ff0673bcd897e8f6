import type { EventFieldValue } from '../store/types.js';

export interface EngineLogger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export interface EventInput {
  type: string;
  name: string;
  object?: string | null;
  fields?: Record<string, EventFieldValue>;
}

export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** Refused for back-pressure: the engine holds as much pending work as it may; the caller retries later. */
export class EngineOverloadedError extends EngineError {
  constructor(
    readonly pendingWork: number,
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `the engine has ${pendingWork} events and runs waiting (maxPendingWork ${limit}); ` +
        `the event was not accepted: retry in ${retryAfterSeconds} s`,
    );
    this.name = 'EngineOverloadedError';
  }
}

export const silentLogger: EngineLogger = { info: () => {}, warn: () => {}, error: () => {} };
