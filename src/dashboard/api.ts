// The dashboard's only way to the engine: the HTTP API of the same server, with the session cookie.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function answer<T>(res: Response, what: string): Promise<T> {
  // The session ended (expired, or the token changed): the server shows the login page again.
  if (res.status === 401) {
    location.reload();
    throw new ApiError(401, 'not logged in');
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    throw new ApiError(res.status, `${what}: ${body.message ?? `HTTP ${res.status}`}`);
  }
  return res.status === 204 ? (undefined as T) : ((await res.json()) as T);
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { headers: { accept: 'application/json' } }), `GET ${path}`);
}

/** An operational action (run now, logout): JSON body, same origin, so the server's CSRF checks pass. */
export async function send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const init: RequestInit =
    body === undefined
      ? { method }
      : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  return answer<T>(await fetch(path, init), `${method} ${path}`);
}

export const q = (params: Record<string, string | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) s.set(k, v);
  const text = s.toString();
  return text ? `?${text}` : '';
};
