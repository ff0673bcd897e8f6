import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import type { RunSummary } from './types.js';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload(): void;
}

/** One GET of the API, re-read when `path` changes or on reload(). */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null }>({ data: null, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let current = true;
    getJson<T>(path).then(
      (data) => current && setState({ data, error: null }),
      (err: Error) => current && setState((s) => ({ data: s.data, error: err.message })),
    );
    return () => {
      current = false;
    };
  }, [path, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

/** The hash route: `#/tasks/name?x=1` → `{ parts: ['tasks', 'name'], query }`. */
export function useRoute(): { parts: string[]; query: URLSearchParams } {
  const read = () => {
    const [path = '', search = ''] = location.hash.replace(/^#\/?/, '').split('?');
    return {
      parts: path.split('/').filter(Boolean).map(decodeURIComponent),
      query: new URLSearchParams(search),
    };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/**
 * Runs as `GET /api/v1/runs?follow=1` streams them: the listing, then new and changed runs, live.
 * Newest first, at most `limit`; `live` is false while the stream reconnects.
 */
export function useRunStream(query: string, limit: number): { runs: RunSummary[]; live: boolean } {
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [live, setLive] = useState(false);
  useEffect(() => {
    setRuns([]);
    const byId = new Map<string, RunSummary>();
    const source = new EventSource(`/api/v1/runs?follow=1&${query}`);
    let frame = 0;
    // Many events in a burst (the listing) render once.
    const flush = () => {
      frame = 0;
      const sorted = [...byId.values()].sort((a, b) =>
        a.queuedAt < b.queuedAt ? 1 : a.queuedAt > b.queuedAt ? -1 : a.runId < b.runId ? 1 : -1,
      );
      setRuns(sorted.slice(0, limit));
    };
    source.addEventListener('run', (e) => {
      const run = JSON.parse((e as MessageEvent<string>).data) as RunSummary;
      byId.set(run.runId, run);
      if (!frame) frame = requestAnimationFrame(flush);
    });
    source.onopen = () => setLive(true);
    // EventSource reconnects by itself; the listing it sends again replaces the same ids.
    source.onerror = () => setLive(false);
    return () => {
      source.close();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [query, limit]);
  return { runs, live };
}
