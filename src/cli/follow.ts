import axios from 'axios';
import { FINAL_RUN_STATUSES, type RunRecord } from '../store/types.js';
import { readApiToken } from './api-token.js';
import { CliError } from './exit.js';
import { refused } from './http-client.js';
import { renderLogLine } from './log-views.js';
import type { Palette } from './output.js';

/**
 * `logs --follow`: reads `GET /api/v1/runs?follow=1` (server-sent events, `event: run` with the record as
 * JSON) and prints each run once it has finished, until the server closes the stream or the user hits ^C.
 */
export async function followRuns(
  server: string,
  filter: { task?: string; status?: string; tokenFile?: string },
  format: 'table' | 'json' | 'csv',
  c: Palette,
): Promise<void> {
  const token = readApiToken(filter.tokenFile);
  const query = new URLSearchParams({ follow: '1' });
  if (filter.task) query.set('task', filter.task);
  if (filter.status) query.set('status', filter.status);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  try {
    const response = await axios.request<NodeJS.ReadableStream>({
      url: new URL(`/api/v1/runs?${query}`, server).toString(),
      method: 'GET',
      responseType: 'stream',
      signal: controller.signal,
      headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      validateStatus: () => true,
    });
    if (response.status >= 400) {
      throw refused(server, response.status, await readJson(response.data), Boolean(token), filter.tokenFile);
    }
    const printed = new Set<string>();
    const print = (run: RunRecord) => {
      // The feed sends each change of a run; a row is printed once, when the run has an outcome.
      if (!FINAL_RUN_STATUSES.includes(run.status) || printed.has(run.runId)) return;
      printed.add(run.runId);
      process.stdout.write(format === 'table' ? renderLogLine(run, c) : JSON.stringify(run) + '\n');
    };
    await readEvents(response.data, (event, data) => {
      if (event === 'run') print(JSON.parse(data) as RunRecord);
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (controller.signal.aborted) return;
    throw new CliError(`cannot follow the runs of ${server}: ${(err as Error).message}`);
  } finally {
    process.off('SIGINT', stop);
  }
}

/** Splits a server-sent-event stream into (event, data) pairs; comments (heartbeats) are skipped. */
async function readEvents(stream: NodeJS.ReadableStream, onEvent: (event: string, data: string) => void) {
  let buffer = '';
  for await (const chunk of stream) {
    buffer += String(chunk);
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) onEvent(event, data.join('\n'));
    }
  }
}

async function readJson(stream: NodeJS.ReadableStream): Promise<unknown> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
