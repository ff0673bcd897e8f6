import axios from 'axios';
import { readApiToken } from './api-token.js';
import { CliError } from './exit.js';

/** Calls a running `taskops serve`; the token comes from TASKOPS_API_TOKEN or --api-token-file. */
export async function callServer<T>(
  server: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: unknown; tokenFile?: string } = {},
): Promise<{ status: number; data: T }> {
  const token = readApiToken(opts.tokenFile);
  try {
    const response = await axios.request<T>({
      url: new URL(path, server).toString(),
      method,
      // An empty JSON object rather than no body: the server only takes JSON.
      data: opts.body ?? (method === 'POST' ? {} : undefined),
      timeout: 30_000,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      validateStatus: () => true,
    });
    if (response.status >= 400) {
      const body = response.data as { message?: string } | undefined;
      throw new CliError(`${server} answered ${response.status}: ${body?.message ?? 'request refused'}`);
    }
    return { status: response.status, data: response.data };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot reach ${server}: ${(err as Error).message}`);
  }
}
