import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * A VergeOS REST API simulator on 127.0.0.1, written from the published API (verge-io/docs api-guide.md,
 * api-vm-power-management.md; pyVergeOS and tsvergeos for tables and fields): /api/v4/TABLE with fields,
 * filter (eq ne gt ge lt le bw ew cs ct rx, and/or, parentheses, '' quoting), sort, limit (0 = all) and
 * offset; /api/v4/TABLE/KEY; POST /api/v4/vm_actions with 201/409; POST /api/sys/tokens; Bearer API keys
 * and x-yottabyte-token session tokens; 401, 403, 404, 429, 507 and `{"err": "…"}` bodies.
 */
export type Row = Record<string, unknown> & { $key: number | string };

export interface SimRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface VergeosSim {
  url: string;
  tables: Record<string, Row[]>;
  requests: SimRequest[];
  /** API keys accepted as `Authorization: Bearer KEY`; `readOnly` ones get 403 on writes. */
  apiKeys: Map<string, { readOnly?: boolean }>;
  users: Map<string, string>;
  /** The next `count` requests answer `status` (e.g. 429 with Retry-After, 507, 503), before any other check but auth. */
  failNext(count: number, status: number, opts?: { retryAfter?: string; path?: string; err?: string }): void;
  addVm(name: string, opts?: { running?: boolean }): Row;
  tagVms(tag: string, vmNames: string[], category?: string): void;
  addLog(entry: {
    level: string;
    text: string;
    object_type: string;
    object_name: string;
    user?: string;
  }): Row;
  isRunning(vmName: string): boolean;
  vmActions(): Array<{ vm: string; action: string; params: unknown }>;
  close(): Promise<void>;
}

export async function startVergeosSim(): Promise<VergeosSim> {
  const tables: Record<string, Row[]> = {
    vms: [],
    machine_status: [],
    vm_actions: [],
    tags: [],
    tag_categories: [],
    tag_members: [],
    logs: [],
    alarms: [],
    tasks: [],
    task_schedules: [],
    task_schedule_triggers: [],
    task_events: [],
    webhook_urls: [],
    users: [],
  };
  const requests: SimRequest[] = [];
  const apiKeys = new Map<string, { readOnly?: boolean }>();
  const users = new Map<string, string>();
  const sessions = new Set<string>();
  const failures: Array<{ status: number; retryAfter?: string; path?: string; err?: string }> = [];
  const nextKey: Record<string, number> = {};
  const keyFor = (table: string) => (nextKey[table] = (nextKey[table] ?? 0) + 1);

  const insert = (table: string, row: Record<string, unknown>): Row => {
    const full = { $key: keyFor(table), ...row } as Row;
    (tables[table] ??= []).push(full);
    return full;
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const query = Object.fromEntries(url.searchParams);
    let body: unknown = undefined;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, { err: 'request body is not JSON' });
      }
    }
    requests.push({ method: req.method ?? '', path: url.pathname, query, headers: req.headers, body });

    if (url.pathname === '/api/sys/tokens' && req.method === 'POST') {
      const { login, password } = (body ?? {}) as { login?: string; password?: string };
      if (!login || users.get(login) !== password) return send(res, 401, { err: 'Invalid login' });
      const token = randomBytes(16).toString('hex');
      sessions.add(token);
      return send(res, 201, { $key: token });
    }
    const m = /^\/api\/v4\/([a-z_]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return send(res, 404, { err: 'Not found' });
    const [, table, rawKey] = m as unknown as [string, string, string | undefined];

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = req.headers['x-yottabyte-token'];
    const key = bearer !== undefined ? apiKeys.get(bearer) : undefined;
    const authed = key !== undefined || (typeof token === 'string' && sessions.has(token));
    if (!authed) return send(res, 401, { err: 'Authentication required' });

    const fail = failures[0];
    if (fail && (!fail.path || fail.path === url.pathname)) {
      failures.shift();
      return send(
        res,
        fail.status,
        { err: fail.err ?? `simulated ${fail.status}` },
        fail.retryAfter ? { 'retry-after': fail.retryAfter } : {},
      );
    }
    if (req.method !== 'GET' && key?.readOnly) return send(res, 403, { err: 'Permission denied' });
    const rows = tables[table];
    if (!rows) return send(res, 404, { err: `no table ${table}` });

    if (req.method === 'GET') {
      if (rawKey !== undefined) {
        const id = decodeURIComponent(rawKey);
        const row = rows.find((r) => String(r.$key) === id);
        return row ? send(res, 200, project(row, query.fields)) : send(res, 404, { err: 'Row not found' });
      }
      let out = rows;
      if (query.filter) {
        let test: (row: Row) => boolean;
        try {
          test = parseFilter(query.filter);
        } catch (err) {
          return send(res, 400, { err: `invalid filter: ${(err as Error).message}` });
        }
        out = out.filter(test);
      }
      if (query.sort) out = sortRows(out, query.sort);
      const offset = Number(query.offset ?? 0);
      const limit = query.limit === undefined ? 0 : Number(query.limit);
      out = out.slice(offset, limit === 0 ? undefined : offset + limit);
      return send(
        res,
        200,
        out.map((r) => project(r, query.fields)),
      );
    }
    if (req.method === 'POST' && table === 'vm_actions') return vmAction(res, body);
    if (req.method === 'POST' && rawKey === undefined) {
      const row = insert(table, (body ?? {}) as Record<string, unknown>);
      return send(res, 201, created(table, row.$key));
    }
    return send(res, 405, { err: 'Method not allowed' });
  };

  const vmAction = (res: http.ServerResponse, body: unknown) => {
    const { vm, action, params } = (body ?? {}) as { vm?: unknown; action?: string; params?: unknown };
    const row = tables.vms!.find((r) => String(r.$key) === String(vm));
    if (!row) return send(res, 404, { err: `VM ${String(vm)} not found` });
    if (typeof vm !== 'string') return send(res, 422, { err: 'vm must be a key string' });
    const status = tables.machine_status!.find((s) => s.$key === row.machine)!;
    const running = status.running === true;
    const setRunning = (on: boolean) =>
      Object.assign(status, {
        running: on,
        powerstate: on,
        status: on ? 'running' : 'stopped',
        state: on ? 'online' : 'offline',
      });
    switch (action) {
      case 'poweron':
        if (running) return send(res, 409, { err: 'VM is already in running state' });
        setRunning(true);
        break;
      case 'poweroff':
      case 'kill':
        if (!running) return send(res, 409, { err: 'VM is not in running state' });
        setRunning(false);
        break;
      case 'reset':
        if (!running) return send(res, 409, { err: 'VM is not in running state' });
        break;
      default:
        return send(res, 422, { err: `unknown action ${String(action)}` });
    }
    const logged = insert('vm_actions', { vm, action, params });
    return send(res, 201, created('vm_actions', logged.$key));
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const sim: VergeosSim = {
    url: `http://127.0.0.1:${port}`,
    tables,
    requests,
    apiKeys,
    users,
    failNext(count, status, opts = {}) {
      for (let i = 0; i < count; i++) failures.push({ status, ...opts });
    },
    addVm(name, opts = {}) {
      const machine = keyFor('machines');
      tables.machine_status!.push({
        $key: machine,
        running: opts.running ?? false,
        powerstate: opts.running ?? false,
        status: opts.running ? 'running' : 'stopped',
        state: opts.running ? 'online' : 'offline',
        node: 1,
      });
      return insert('vms', { name, machine, is_snapshot: false, description: '', cpu_cores: 4, ram: 8192 });
    },
    tagVms(tag, vmNames, category = 'Workstations') {
      const cat =
        tables.tag_categories!.find((c) => c.name === category) ??
        insert('tag_categories', { name: category, taggable_vms: true });
      const t =
        tables.tags!.find((x) => x.name === tag && x.category === cat.$key) ??
        insert('tags', { name: tag, category: cat.$key, description: '' });
      for (const name of vmNames) {
        const vm = tables.vms!.find((v) => v.name === name)!;
        insert('tag_members', { tag: t.$key, member: `vms/${vm.$key}` });
      }
    },
    addLog(entry) {
      // VergeOS log timestamps are microseconds since the epoch.
      return insert('logs', { user: '', ...entry, timestamp: Date.now() * 1000 });
    },
    isRunning(vmName) {
      const vm = tables.vms!.find((v) => v.name === vmName)!;
      return tables.machine_status!.find((s) => s.$key === vm.machine)!.running === true;
    },
    vmActions() {
      return tables.vm_actions!.map((a) => ({
        vm: String(a.vm),
        action: String(a.action),
        params: a.params,
      }));
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return sim;
}

function send(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function created(table: string, key: number | string) {
  return { location: `/v4/${table}/${key}`, dbpath: `${table}/${key}`, $row: Number(key), $key: String(key) };
}

/** `fields=most|all|summary` keep every field here; a list keeps those named. */
function project(row: Row, fields: string | undefined): Record<string, unknown> {
  if (!fields || ['most', 'all', 'summary'].includes(fields)) return { ...row };
  const names = fields
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const out: Record<string, unknown> = {};
  for (const spec of names) {
    // `owner#name as owner_name` projects a referenced row's field; the simulator stores it under its alias.
    const alias = / as (\w+)$/.exec(spec)?.[1] ?? spec;
    if (alias in row) out[alias] = row[alias];
  }
  return out;
}

function sortRows(rows: Row[], sort: string): Row[] {
  const desc = sort.startsWith('-');
  const field = sort.replace(/^[+-]/, '');
  return [...rows].sort((a, b) => {
    const x = a[field] as string | number;
    const y = b[field] as string | number;
    const c = x < y ? -1 : x > y ? 1 : 0;
    return desc ? -c : c;
  });
}

type Token =
  { kind: 'word'; text: string } | { kind: 'value'; value: unknown } | { kind: 'paren'; text: '(' | ')' };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ') i++;
    else if (c === '(' || c === ')') {
      out.push({ kind: 'paren', text: c });
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated string');
        if (text[i] === "'" && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (text[i] === "'") {
          i++;
          break;
        } else value += text[i++];
      }
      out.push({ kind: 'value', value });
    } else {
      const m = /^[^\s()']+/.exec(text.slice(i))![0];
      i += m.length;
      if (/^-?\d+(\.\d+)?$/.test(m)) out.push({ kind: 'value', value: Number(m) });
      else if (m === 'true' || m === 'false') out.push({ kind: 'value', value: m === 'true' });
      else if (m === 'null') out.push({ kind: 'value', value: null });
      else out.push({ kind: 'word', text: m });
    }
  }
  return out;
}

const OPS: Record<string, (a: unknown, b: unknown) => boolean> = {
  eq: (a, b) => a === b || (typeof b === 'number' && a !== null && String(a) === String(b)),
  ne: (a, b) => !OPS.eq!(a, b),
  gt: (a, b) => Number(a) > Number(b),
  ge: (a, b) => Number(a) >= Number(b),
  lt: (a, b) => Number(a) < Number(b),
  le: (a, b) => Number(a) <= Number(b),
  bw: (a, b) => String(a).toLowerCase().startsWith(String(b).toLowerCase()),
  ew: (a, b) => String(a).toLowerCase().endsWith(String(b).toLowerCase()),
  cs: (a, b) => String(a).includes(String(b)),
  ct: (a, b) => String(a).toLowerCase().includes(String(b).toLowerCase()),
  rx: (a, b) => new RegExp(String(b)).test(String(a)),
};

/** filter := term (('and'|'or') term)*, term := '(' filter ')' | FIELD OP VALUE; and binds tighter than or. */
function parseFilter(text: string): (row: Row) => boolean {
  const tokens = tokenize(text);
  let pos = 0;
  const peekWord = () => (tokens[pos]?.kind === 'word' ? (tokens[pos] as { text: string }).text : undefined);
  const term = (): ((row: Row) => boolean) => {
    const t = tokens[pos++];
    if (!t) throw new Error('expected a condition');
    if (t.kind === 'paren' && t.text === '(') {
      const inner = orExpr();
      const close = tokens[pos++];
      if (!close || close.kind !== 'paren' || close.text !== ')') throw new Error('expected )');
      return inner;
    }
    if (t.kind !== 'word') throw new Error('expected a field name');
    const op = tokens[pos++];
    if (!op || op.kind !== 'word' || !OPS[op.text]) throw new Error(`unknown operator after ${t.text}`);
    const value = tokens[pos++];
    if (!value || value.kind !== 'value') throw new Error(`expected a value after ${t.text} ${op.text}`);
    const fn = OPS[op.text]!;
    return (row) => fn(row[t.text], value.value);
  };
  const andExpr = () => {
    let left = term();
    while (peekWord() === 'and') {
      pos++;
      const l = left;
      const r = term();
      left = (row) => l(row) && r(row);
    }
    return left;
  };
  const orExpr = () => {
    let left = andExpr();
    while (peekWord() === 'or') {
      pos++;
      const l = left;
      const r = andExpr();
      left = (row) => l(row) || r(row);
    }
    return left;
  };
  const fn = orExpr();
  if (pos !== tokens.length) throw new Error('unexpected text after the filter');
  return fn;
}
