import fastifyHelmet from '@fastify/helmet';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { HELMET_OPTIONS } from '../../src/server/app.js';
import { helmetHeaders, securityHeaders } from '../../src/server/security-headers.js';

/** Every response header of a GET / on an app with `setup` and one route. */
async function headersOf(setup: (app: ReturnType<typeof Fastify>) => Promise<void> | void) {
  const app = Fastify();
  await setup(app);
  app.get('/', async () => ({ ok: true }));
  const res = await app.inject({ method: 'GET', url: '/' });
  await app.close();
  const { date: _date, ...headers } = res.headers;
  return headers;
}

describe('security headers computed once', () => {
  it('are exactly what @fastify/helmet sends for the same options', async () => {
    const perRequest = await headersOf((app) => app.register(fastifyHelmet, HELMET_OPTIONS));
    const once = await headersOf((app) => securityHeaders(app, HELMET_OPTIONS));
    expect(once).toEqual(perRequest);
    expect(once['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(once['x-content-type-options']).toBe('nosniff');
    expect(once['strict-transport-security']).toBeUndefined();
  });

  it('refuse options helmet refuses, at start-up', () => {
    expect(() =>
      helmetHeaders({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'; script-src *"] } } }),
    ).toThrow();
  });
});
