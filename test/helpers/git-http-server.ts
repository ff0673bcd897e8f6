import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';

export interface GitHttpServer {
  /** `http://127.0.0.1:PORT`, without credentials. */
  origin: string;
  port: number;
  /** The clone URL of a served repository, with `user:password@` when given. */
  url(name: string, credentials?: { user: string; password: string }): string;
  /** Serves the repository in `dir` (bare or not) as `/<name>`. */
  serve(name: string, dir: string): void;
  /** Requests answered so far: how many were let in, how many were refused for their credentials. */
  requests: { authorized: number; refused: number };
  /** Every Authorization header received, in order. */
  authorizations: string[];
  close(): Promise<void>;
}

/**
 * A real smart-HTTP git server on 127.0.0.1 that takes only one Basic user and password: a node http server
 * that checks the credentials and runs `git http-backend` as a CGI program for each request.
 */
export async function startGitHttpServer(
  auth: { user: string; password: string },
  opts: { redirectTo?: string } = {},
): Promise<GitHttpServer> {
  const root = mkdtempSync(join(tmpdir(), 'taskops-git-http-'));
  const expected = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
  const requests = { authorized: 0, refused: 0 };
  const authorizations: string[] = [];

  const server = createServer((req, res) => {
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
    // A server that moved (or an attacker's): every request is sent on to another origin.
    if (opts.redirectTo) {
      res.writeHead(302, { location: `${opts.redirectTo}${req.url ?? '/'}` }).end();
      return;
    }
    if (req.headers.authorization !== expected) {
      requests.refused++;
      res.writeHead(401, { 'www-authenticate': 'Basic realm="taskops test"' }).end('credentials required\n');
      return;
    }
    requests.authorized++;
    runBackend(root, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    port,
    requests,
    authorizations,
    url: (name, credentials) =>
      credentials
        ? `http://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${name}`
        : `${origin}/${name}`,
    serve: (name, dir) => symlinkSync(dir, join(root, name)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** One CGI request: the body goes to the backend's stdin; its CGI headers become the response's. */
function runBackend(root: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : '';
  };
  const child = spawn(HTTP_BACKEND, [], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: header('content-type'),
      REMOTE_USER: 'taskops-test',
      REMOTE_ADDR: '127.0.0.1',
      // git compresses large upload-pack requests and speaks protocol v2 when asked.
      HTTP_CONTENT_ENCODING: header('content-encoding'),
      GIT_PROTOCOL: header('git-protocol'),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = headerEnd(head);
    if (!end) return;
    const { status, headers } = parseCgiHeaders(head.subarray(0, end.at).toString('latin1'));
    res.writeHead(status, headers);
    headersSent = true;
    res.write(head.subarray(end.at + end.length));
  });
  child.on('close', (code) => {
    if (!headersSent) res.writeHead(500).end(`git http-backend exited ${code} without a response\n`);
    else res.end();
  });
}

function headerEnd(buf: Buffer): { at: number; length: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  return lf >= 0 ? { at: lf, length: 2 } : undefined;
}

function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}
