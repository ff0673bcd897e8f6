import http from 'node:http';
import { connect, type Socket } from 'node:net';

/** A raw TCP client on 127.0.0.1: writes exactly what a test says and records what comes back. */
export interface RawClient {
  socket: Socket;
  write(text: string): void;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves with the milliseconds from connect until the server closed (or reset) the connection. */
  closed: Promise<number>;
  /** True once `closed` has resolved. */
  isClosed(): boolean;
  /** Writes `chunk` every `everyMs` until the connection closes (a slowloris). */
  trickle(chunk: string, everyMs: number): void;
  destroy(): void;
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const start = Date.now();
  let data = '';
  let done = false;
  let timer: NodeJS.Timeout | null = null;
  socket.on('data', (c: Buffer) => (data += c.toString()));
  const closed = new Promise<number>((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => {
      done = true;
      if (timer) clearInterval(timer);
      resolve(Date.now() - start);
    });
  });
  return {
    socket,
    write: (text) => {
      if (!socket.destroyed) socket.write(text);
    },
    received: () => data,
    closed,
    isClosed: () => done,
    trickle: (chunk, everyMs) => {
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(chunk);
      }, everyMs);
    },
    destroy: () => socket.destroy(),
  };
}

export interface PlainResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection (no pooling), so a test controls every socket it opens. */
export function plainRequest(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers ?? {},
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
