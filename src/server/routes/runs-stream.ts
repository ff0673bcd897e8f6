import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RunFilter, RunRecord, Store } from '../../store/types.js';
import type { RunFeed } from '../run-feed.js';

/** A comment line this often keeps proxies and browsers from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

const frame = (run: RunRecord) => `id: ${run.runId}\nevent: run\ndata: ${JSON.stringify(run)}\n\n`;

/**
 * `GET /api/v1/runs?follow=1` as server-sent events: the runs the same query lists (oldest first), then
 * every new or changed run matching its task and status filters, each as `event: run` with the record as
 * JSON. Nothing is missed between the listing and the follow: the feed records what exists first.
 */
export async function streamRuns(
  request: FastifyRequest,
  reply: FastifyReply,
  store: Store,
  feed: RunFeed,
  filter: RunFilter,
): Promise<void> {
  const pending: RunRecord[] = [];
  let write: (run: RunRecord) => void = (run) => pending.push(run);
  const stop = await feed.subscribe({
    ...(filter.task !== undefined ? { task: filter.task } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    send: (run) => write(run),
    end: () => reply.raw.end(),
  });
  const listed = await store.listRuns(filter);

  // Headers set by hooks (security headers) are on the reply; copy them onto the raw response.
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // nginx buffers responses unless told not to, which would hold events back.
    'x-accel-buffering': 'no',
  });
  res.write(': taskops runs\n\n');
  const sent = new Set<string>();
  for (const run of listed.reverse()) {
    sent.add(`${run.runId}:${JSON.stringify(run)}`);
    res.write(frame(run));
  }
  write = (run) => {
    res.write(frame(run));
  };
  // Changes seen while listing, unless the listing already showed them as they are now.
  for (const run of pending) if (!sent.has(`${run.runId}:${JSON.stringify(run)}`)) write(run);

  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    stop();
    request.server.log.debug('runs stream closed');
  };
  request.raw.once('close', close);
  res.once('close', close);
}
