import type { AxiosInstance } from 'axios';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { DriverConfig, SecretRef } from '../../manifest/types.js';
import { describeSecretRef, resolveSecret, SecretError, type ReadFile } from '../secrets.js';
import { parseRetryAfter } from './backoff.js';
import { DEFAULT_PAUSE_MS, RequestBudget } from './vergeos-budget.js';
import { onFirstUse } from './lazy.js';
import { abortReason } from './types.js';
import { describeRequestError, redact } from './webhook-request.js';

/** A request that ended without a usable answer, in words that never hold a credential. */
export class VergeosError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'VergeosError';
  }
}

export interface VergeosResponse {
  status: number;
  data: unknown;
  /** VergeOS's own explanation (`{"err": "…"}`), when it gave one. */
  err?: string;
  /** A 429: how long VergeOS asked every request to wait (its Retry-After, or a default pause). */
  retryAfterMs?: number;
}

export interface VergeosClientDeps {
  env?: NodeJS.ProcessEnv;
  readFile?: ReadFile;
  now?(): Date;
  /**
   * Given only to a one-shot command (import): it waits here, within MAX_INLINE_WAIT_MS, for the budget and a
   * 429. Without it (the engine's driver and event source) the client never waits: a request that must wait
   * fails retryable with the wait, and the runner or the next poll tries again on the engine's clock.
   */
  waitInline?(ms: number, signal: AbortSignal): Promise<void>;
  /** Folder a relative caFile is read from (the config file's). */
  baseDir?: string;
}

export interface ListOptions {
  filter?: string;
  fields?: string;
  sort?: string;
  signal?: AbortSignal;
}

/** A one-shot command waits at most this long inline; a longer wait fails, retryable, with the wait. */
export const MAX_INLINE_WAIT_MS = 60_000;
const PAGE_SIZE = 500;
const MAX_THROTTLE_RETRIES = 3;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * One VergeOS system's REST API (https://HOST/api/v4, tokens at /api/sys/tokens), shared by the driver,
 * the event source and `taskops import`: auth by API key (Bearer) or session token (x-yottabyte-token),
 * the hourly request budget, back-off on 429, paging. Secrets are read when a request is made.
 */
export class VergeosClient {
  private readonly http: () => Promise<AxiosInstance>;
  private readonly env: NodeJS.ProcessEnv;
  private readonly readFile: ReadFile | undefined;
  private readonly now: () => Date;
  private readonly waitInline: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  private readonly agents: { http: http.Agent; https: https.Agent };
  readonly budget: RequestBudget;
  private sessionToken: string | undefined;

  constructor(
    private readonly settings: DriverConfig,
    deps: VergeosClientDeps = {},
  ) {
    this.env = deps.env ?? process.env;
    this.readFile = deps.readFile;
    this.now = deps.now ?? (() => new Date());
    this.waitInline = deps.waitInline;
    this.budget = new RequestBudget(settings.requestsPerHour ?? 1000, this.now);
    const ca = settings.caFile
      ? fs.readFileSync(path.resolve(deps.baseDir ?? process.cwd(), settings.caFile))
      : undefined;
    this.agents = {
      http: new http.Agent({ keepAlive: true }),
      https: new https.Agent({
        keepAlive: true,
        rejectUnauthorized: !settings.allowInsecureCertificates,
        ...(ca ? { ca } : {}),
      }),
    };
    const agents = this.agents;
    const timeout = (settings.timeoutSeconds ?? 15) * 1000;
    this.http = onFirstUse(async () =>
      (await import('axios')).default.create({
        maxRedirects: 0,
        validateStatus: () => true,
        timeout,
        maxContentLength: 64 * 1024 * 1024,
        headers: { 'user-agent': 'taskops', accept: 'application/json' },
        httpAgent: agents.http,
        httpsAgent: agents.https,
      }),
    );
  }

  /** GET /api/v4/TABLE with filter/fields/sort, every page (limit/offset) read. */
  async list(table: string, opts: ListOptions = {}): Promise<Array<Record<string, unknown>>> {
    const rows: Array<Record<string, unknown>> = [];
    for (let offset = 0; ; offset += PAGE_SIZE) {
      const query: Record<string, string> = { limit: String(PAGE_SIZE), offset: String(offset) };
      if (opts.filter) query.filter = opts.filter;
      if (opts.fields) query.fields = opts.fields;
      if (opts.sort) query.sort = opts.sort;
      const res = await this.call('GET', table, { query, ...(opts.signal ? { signal: opts.signal } : {}) });
      if (res.status !== 200) throw this.failure(`GET ${table}`, res);
      const page = Array.isArray(res.data) ? res.data : res.data ? [res.data] : [];
      rows.push(...(page as Array<Record<string, unknown>>));
      if (page.length < PAGE_SIZE) return rows;
    }
  }

  /** GET one page only (the newest log entry, say). */
  async page(table: string, opts: ListOptions & { limit: number }): Promise<Array<Record<string, unknown>>> {
    const query: Record<string, string> = { limit: String(opts.limit) };
    if (opts.filter) query.filter = opts.filter;
    if (opts.fields) query.fields = opts.fields;
    if (opts.sort) query.sort = opts.sort;
    const res = await this.call('GET', table, { query, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (res.status !== 200) throw this.failure(`GET ${table}`, res);
    return (Array.isArray(res.data) ? res.data : res.data ? [res.data] : []) as Array<
      Record<string, unknown>
    >;
  }

  /**
   * One API call under the budget; logs in again once when a session token has expired. A 429 pauses every
   * request for its Retry-After. With `waitInline` (a one-shot command) it waits for the budget and repeats a
   * throttled request a few times; without, it never waits. Resolves with any HTTP answer; throws
   * VergeosError only when there is none to give (the budget refused the request: retryable, with the wait).
   */
  async call(
    method: 'GET' | 'POST' | 'PUT',
    table: string,
    opts: { query?: Record<string, string>; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<VergeosResponse> {
    const signal = opts.signal ?? new AbortController().signal;
    let relogged = false;
    for (let throttled = 0; ;) {
      const auth = await this.authHeaders(signal);
      const res = await this.send(method, `/api/v4/${table}`, opts.query, opts.body, auth, signal);
      if (res.status === 429) {
        const wait = parseRetryAfter(res.retryAfter, this.now()) ?? DEFAULT_PAUSE_MS;
        this.budget.pause(wait);
        if (!this.waitInline || ++throttled > MAX_THROTTLE_RETRIES) return { ...res, retryAfterMs: wait };
        continue;
      }
      if (res.status === 401 && this.settings.auth?.username && !relogged) {
        // A session token expires; an API key does not, so only a token is worth one fresh login.
        this.sessionToken = undefined;
        relogged = true;
        continue;
      }
      return res;
    }
  }

  async close(): Promise<void> {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** The error for an answer that is not the one wanted, classified for retrying. */
  failure(what: string, res: VergeosResponse): VergeosError {
    const why = res.err ? `: ${res.err}` : '';
    if (res.status === 401 || res.status === 403) {
      const ref = this.credentialRef();
      return new VergeosError(
        `${what}: VergeOS answered ${res.status} ${res.status === 401 ? 'Unauthorized' : 'Forbidden'}${why}; check the credentials read from ${ref}${res.status === 403 ? ' and that user’s permissions' : ''}`,
        false,
        res.status,
      );
    }
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    return new VergeosError(
      `${what}: VergeOS answered ${res.status}${why}`,
      retryable,
      res.status,
      res.retryAfterMs,
    );
  }

  /** Throws VergeosError when the settings cannot work (URL, credentials), before anything is sent. */
  preflight(): void {
    this.baseUrl();
    const auth = this.settings.auth;
    if (auth?.tokenFrom) this.secret(auth.tokenFrom);
    else if (auth?.username && auth.passwordFrom) this.secret(auth.passwordFrom);
    else
      throw new VergeosError(
        'no VergeOS credentials: set auth.tokenFrom or auth.username and passwordFrom',
        false,
      );
  }

  private credentialRef(): string {
    const auth = this.settings.auth;
    if (auth?.tokenFrom) return `auth.tokenFrom ${describeSecretRef(auth.tokenFrom)}`;
    if (auth?.passwordFrom) return `auth.username/passwordFrom ${describeSecretRef(auth.passwordFrom)}`;
    return 'auth';
  }

  private baseUrl(): { url: string; secrets: string[] } {
    const fromRef = this.settings.urlFrom;
    const text = fromRef ? this.secret(fromRef) : (this.settings.url ?? '');
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw new VergeosError(
        `the VergeOS URL${fromRef ? ` read from ${describeSecretRef(fromRef)}` : ''} is not a URL`,
        false,
      );
    }
    // A credential never crosses the network in clear text: plain http only for a simulator on this machine.
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname))) {
      throw new VergeosError(
        'the VergeOS URL must be https:// (http:// only for 127.0.0.1/localhost)',
        false,
      );
    }
    if (parsed.username || parsed.password) {
      throw new VergeosError('the VergeOS URL must not hold a user or password: use auth', false);
    }
    return { url: parsed.origin + parsed.pathname.replace(/\/+$/, ''), secrets: fromRef ? [text] : [] };
  }

  private secret(ref: SecretRef): string {
    try {
      return resolveSecret(ref, this.env, this.readFile);
    } catch (err) {
      if (err instanceof SecretError) throw new VergeosError(err.message, false);
      throw err;
    }
  }

  private async authHeaders(
    signal: AbortSignal,
  ): Promise<{ headers: Record<string, string>; secrets: string[] }> {
    const auth = this.settings.auth;
    if (auth?.tokenFrom) {
      const key = this.secret(auth.tokenFrom);
      return { headers: { authorization: `Bearer ${key}` }, secrets: [key] };
    }
    if (auth?.username && auth.passwordFrom) {
      if (!this.sessionToken) this.sessionToken = await this.login(auth.username, auth.passwordFrom, signal);
      return { headers: { 'x-yottabyte-token': this.sessionToken }, secrets: [this.sessionToken] };
    }
    throw new VergeosError(
      'no VergeOS credentials: set auth.tokenFrom or auth.username and passwordFrom',
      false,
    );
  }

  /** POST /api/sys/tokens {login, password} → the session token (its $key). */
  private async login(username: string, ref: SecretRef, signal: AbortSignal): Promise<string> {
    const password = this.secret(ref);
    const res = await this.send(
      'POST',
      '/api/sys/tokens',
      undefined,
      { login: username, password },
      { headers: {}, secrets: [password] },
      signal,
    );
    const token = (res.data as { $key?: unknown } | null)?.$key;
    if ((res.status === 200 || res.status === 201) && typeof token === 'string' && token) return token;
    if (res.status === 401 || res.status === 403)
      throw new VergeosError(
        `VergeOS refused the login of ${username} (${res.status}); check auth.passwordFrom ${describeSecretRef(ref)}`,
        false,
        res.status,
      );
    throw new VergeosError(
      `VergeOS login answered ${res.status} without a token${res.err ? `: ${res.err}` : ''}`,
      res.status >= 500 || res.status === 429,
      res.status,
    );
  }

  private async send(
    method: string,
    apiPath: string,
    query: Record<string, string> | undefined,
    body: unknown,
    auth: { headers: Record<string, string>; secrets: string[] },
    signal: AbortSignal,
  ): Promise<VergeosResponse & { retryAfter?: string }> {
    const base = this.baseUrl();
    const secrets = [...auth.secrets, ...base.secrets];
    const wait = this.budget.waitMs();
    if (wait > 0 && (!this.waitInline || wait > MAX_INLINE_WAIT_MS)) {
      throw new VergeosError(
        `the VergeOS request budget (${this.settings.requestsPerHour ?? 1000} per hour) is spent or VergeOS asked to slow down; next request possible in ${Math.ceil(wait / 1000)} s`,
        true,
        429,
        wait,
      );
    }
    if (wait > 0) {
      try {
        await this.waitInline!(wait, signal);
      } catch {
        throw new VergeosError(
          `stopped while waiting for the VergeOS request budget: ${abortReason(signal)}`,
          false,
        );
      }
    }
    if (signal.aborted) throw new VergeosError(`stopped: ${abortReason(signal)}`, false);
    const client = await this.http();
    this.budget.spend();
    try {
      const res = await client.request({
        method,
        url: base.url + apiPath,
        ...(query ? { params: query } : {}),
        ...(body !== undefined
          ? { data: body, headers: { ...auth.headers, 'content-type': 'application/json' } }
          : { headers: auth.headers }),
        signal,
      });
      const retryAfter: unknown = res.headers['retry-after'];
      const data: unknown = res.data;
      const err =
        data && typeof data === 'object' && typeof (data as { err?: unknown }).err === 'string'
          ? (data as { err: string }).err
          : undefined;
      return {
        status: res.status,
        data,
        ...(err ? { err: redact(err, secrets) } : {}),
        ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
      };
    } catch (err) {
      if (signal.aborted) throw new VergeosError(`stopped: ${abortReason(signal)}`, false);
      const described = describeRequestError(err);
      throw new VergeosError(
        `VergeOS could not be reached: ${redact(described.message, secrets)}`,
        !described.permanent,
      );
    }
  }
}
