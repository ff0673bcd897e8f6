import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What the receiver answers to one request. Unscripted requests get 200 "ok". */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait before answering. */
  delayMs?: number;
  /** Never answer ('headers'), or send headers and then never finish the body ('body'). */
  hang?: 'headers' | 'body';
}

export interface Receiver {
  url: string;
  requests: RecordedRequest[];
  /** Queue replies for the next requests, in order. */
  script(...replies: Reply[]): void;
  /** Connections opened so far: tells keep-alive reuse apart from reconnecting. */
  connections(): number;
  close(): Promise<void>;
}

/** A real HTTP(S) peer on 127.0.0.1 that records every request and answers as scripted. */
export async function startReceiver(
  options: { tls?: { key: string; cert: string } } = {},
): Promise<Receiver> {
  const requests: RecordedRequest[] = [];
  const queue: Reply[] = [];
  const sockets = new Set<Socket>();
  let connectionCount = 0;

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const reply = queue.shift() ?? {};
      const answer = () => {
        if (reply.hang === 'headers') return;
        res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain', ...reply.headers });
        if (reply.hang === 'body') {
          res.write('partial');
          return;
        }
        res.end(reply.body ?? 'ok');
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  };

  const server = options.tls ? https.createServer(options.tls, handle) : http.createServer(handle);
  server.on('connection', (socket: Socket) => {
    connectionCount++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    script: (...replies) => queue.push(...replies),
    connections: () => connectionCount,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
