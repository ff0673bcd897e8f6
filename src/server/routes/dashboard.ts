import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { credentialCheck } from '../auth.js';
import { clearedSessionCookie, forgeryRisk, sessionCookie } from '../session.js';

/** dist/dashboard, from src/server/routes (tests) and from dist/server/routes (the built CLI) alike. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/dashboard/', import.meta.url));

/** What the login page needs before anyone has logged in; everything else requires the token. */
const PUBLIC_ASSETS = new Set(['login.js', 'style.css']);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The built files, read once: a small fixed set, so no request can name a path outside it. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (name: string, file: string) => {
    const type = TYPES[path.extname(file)];
    if (!type) return;
    const body = readFileSync(file);
    assets.set(name, {
      body,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  };
  for (const page of ['index.html', 'login.html'])
    if (existsSync(path.join(dir, page))) add(page, path.join(dir, page));
  const assetDir = path.join(dir, 'assets');
  if (existsSync(assetDir)) for (const f of readdirSync(assetDir)) add(`assets/${f}`, path.join(assetDir, f));
  return assets;
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset, page: boolean) {
  // Pages are never cached (they differ by login); assets are revalidated by their hash.
  reply.header('cache-control', page ? 'no-store' : 'no-cache').header('content-type', asset.type);
  if (!page) {
    reply.header('etag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  }
  return reply.send(asset.body);
}

export interface DashboardOptions {
  apiToken: string | null;
  /** The built dashboard (index.html, login.html, assets/); default dist/dashboard. */
  dir?: string;
}

/**
 * The Tasks Dashboard at `/`: static pages that talk to the API only. With a token, a visitor without a
 * valid session gets the login page and nothing else; logging in sets the session cookie.
 */
export function dashboardRoutes(app: FastifyInstance, opts: DashboardOptions): void {
  const dir = opts.dir ?? DEFAULT_DASHBOARD_DIR;
  const assets = loadAssets(dir);
  const check = credentialCheck(opts.apiToken);
  const notBuilt = (reply: FastifyReply) =>
    reply.code(503).send({
      error: 'dashboard_not_built',
      message: `the dashboard is not built (no ${path.join(dir, 'index.html')}); run npm run build`,
    });

  app.get('/', { config: { public: true } }, async (request, reply) => {
    const page = assets.get(check(request) === null ? 'login.html' : 'index.html');
    return page ? sendAsset(request, reply, page, true) : notBuilt(reply);
  });

  app.get<{ Params: { file: string } }>(
    '/assets/:file',
    { config: { public: true } },
    async (request, reply) => {
      const asset = assets.get(`assets/${request.params.file}`);
      if (!asset)
        return reply.code(404).send({ error: 'not_found', message: `no asset ${request.params.file}` });
      if (!PUBLIC_ASSETS.has(request.params.file) && check(request) === null) {
        return reply.code(401).send({ error: 'unauthorized', message: 'log in to load the dashboard' });
      }
      return sendAsset(request, reply, asset, false);
    },
  );

  app.get('/api/v1/session', { config: { public: true } }, async (request) => ({
    tokenRequired: opts.apiToken !== null,
    authenticated: check(request) !== null,
  }));

  app.post<{ Body: { token: string } }>(
    '/api/v1/session',
    {
      config: { public: true },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['token'],
          properties: { token: { type: 'string', minLength: 1, maxLength: 4096 } },
        },
      },
    },
    async (request, reply) => {
      if (opts.apiToken === null) {
        return reply
          .code(400)
          .send({ error: 'bad_request', message: 'this server has no API token: no login needed' });
      }
      const risk = forgeryRisk(request);
      if (risk !== null) return reply.code(403).send({ error: 'forbidden', message: risk });
      const presented = { headers: { authorization: `Bearer ${request.body.token}` } } as FastifyRequest;
      if (check(presented) === null) {
        return reply
          .code(401)
          .send({ error: 'unauthorized', message: 'that is not the API token of this server' });
      }
      return reply.code(204).header('set-cookie', sessionCookie(request.body.token)).send();
    },
  );

  app.delete('/api/v1/session', { config: { public: true } }, async (_request, reply) =>
    reply.code(204).header('set-cookie', clearedSessionCookie()).send(),
  );
}
