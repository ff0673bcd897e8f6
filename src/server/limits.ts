import type { Server } from 'node:http';
import { LIMITS } from '../manifest/index.js';

/** What one client may take of the server: time, sockets, body size and nesting, and load. */
export interface ServerLimits {
  /** Largest request body, in bytes. */
  bodyBytes: number;
  /** Nesting of arrays and objects in a JSON body (the manifests' limit: a spec is a manifest's). */
  maxDepth: number;
  /** The whole request, headers and body, must arrive within this; else 408 and the socket is closed. */
  requestTimeoutMs: number;
  /** The headers must arrive within this (slowloris). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  idleTimeoutMs: number;
  /** A socket on which no byte moves either way is closed after this; longer than a git fetch. */
  socketTimeoutMs: number;
  /** Sockets open at once; connections over it are closed at once. */
  maxConnections: number;
  /** How often node looks for requests past their timeouts (its default, 30 s, would let them overrun). */
  timeoutCheckIntervalMs: number;
  /** Load shedding: above this mean event-loop delay, requests get 503 with Retry-After. */
  maxEventLoopDelayMs: number;
  /** Load shedding on heap use, in bytes; 0 is off. */
  maxHeapUsedBytes: number;
  /** How often the load is sampled. */
  pressureSampleIntervalMs: number;
  /** Seconds a shed client is told to wait. */
  retryAfterSeconds: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  bodyBytes: 64 * 1024,
  maxDepth: LIMITS.maxDepth,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  idleTimeoutMs: 5_000,
  socketTimeoutMs: 180_000,
  maxConnections: 256,
  timeoutCheckIntervalMs: 1_000,
  maxEventLoopDelayMs: 1_000,
  maxHeapUsedBytes: 0,
  pressureSampleIntervalMs: 1_000,
  retryAfterSeconds: 5,
};

/** The limits with the caller's overrides, checked so that a bad combination fails at build time. */
export function resolveLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`server limit ${name} must be a whole number of at least 0 (got ${value})`);
    }
  }
  // Node refuses a header timeout longer than the request timeout.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new RangeError(
      `server limit headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed requestTimeoutMs (${limits.requestTimeoutMs})`,
    );
  }
  return limits;
}

/** The fastify and node http options that carry the time limits. */
export function timeoutOptions(limits: ServerLimits) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.socketTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
  };
}

/** The connection cap lives on the node server, which fastify creates. */
export function capConnections(server: Server, limits: ServerLimits): void {
  server.maxConnections = limits.maxConnections;
}
