import type { FastifyRequest } from 'fastify';

/** The dashboard's login cookie: it holds the API token, for browsers that cannot send a bearer header. */
export const SESSION_COOKIE = 'taskops_session';

/** Twelve hours: a forgotten browser tab does not stay logged in for days. */
const SESSION_SECONDS = 12 * 3600;

/**
 * Secure (HTTPS only; browsers treat http://localhost and 127.0.0.1 as secure too), HttpOnly (page
 * scripts never see it), SameSite=Strict (never sent with a request another site starts).
 */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; Max-Age=${SESSION_SECONDS}; HttpOnly; Secure; SameSite=Strict`;
}

export const clearedSessionCookie = (): string =>
  `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;

/** The session cookie's value in a Cookie header, or null. */
export function sessionToken(cookieHeader: string | undefined): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim()) || null;
    } catch {
      return null;
    }
  }
  return null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a cookie-authenticated request must be refused as a possible cross-site request forgery, or null.
 * SameSite=Strict already keeps the cookie off requests other sites start; on top, a write must carry an
 * Origin equal to this server's own (browsers send it on every fetch POST), so an old browser or a
 * same-site page on another port cannot write either. Bearer-authenticated requests carry no ambient
 * credential and need neither.
 */
export function forgeryRisk(request: FastifyRequest): string | null {
  if (SAFE_METHODS.has(request.method)) return null;
  const origin = request.headers.origin;
  const host = request.headers.host;
  if (!origin || !host) return 'a write authenticated by the session cookie must carry an Origin header';
  let ownOrigin: string;
  try {
    const o = new URL(origin);
    ownOrigin = new URL(`${o.protocol}//${host}`).origin;
    if (o.origin === ownOrigin && (o.protocol === 'http:' || o.protocol === 'https:')) return null;
  } catch {
    // an unreadable Origin or Host is refused below
  }
  return `a write from the origin ${JSON.stringify(origin)} is refused: only this dashboard's own pages may write with its session`;
}
