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

export const silentLogger: EngineLogger = { info: () => {}, warn: () => {}, error: () => {} };
