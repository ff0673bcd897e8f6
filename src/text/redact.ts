/**
 * Credentials inside URLs, masked wherever text leaves the engine (messages, logs, status, events, audit,
 * metrics). A leaf module without imports, so every layer may use it.
 */

export const REDACTED_USERINFO = '***';

/**
 * `scheme://userinfo@`: the authority ends at `/`, `?` or `#` (RFC 3986, and git and curl read it the same
 * way), so the userinfo runs to the last `@` before them. Quotes and white space end it too, so a URL quoted
 * in a message or embedded in JSON is cut where the text around it starts.
 */
const SCHEME_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>`]*@/gi;

/**
 * The same URL percent-encoded once or more (a query parameter, a path component): `%3A%2F%2F` opens it,
 * `%40` ends its userinfo, `%2F` `%3F` `%23` or a raw delimiter end its authority.
 */
const ENCODED_USERINFO =
  /\b([a-z][a-z0-9+.-]*%(?:25)*3A%(?:25)*2F%(?:25)*2F)(?:(?!%(?:25)*(?:2F|3F|23))[^\s/?#&=@"'<>])*%(?:25)*40/gi;

/**
 * scp-like `user:password@host:path` (git's short ssh form). Only with a password: `git@github.com:org/repo`
 * holds no secret and stays readable.
 */
const SCP_WITH_PASSWORD =
  /(^|[\s"'(<=,;[{])[^\s/:@"'<>]+:[^\s/@"'<>]+@(?=(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+):)/gi;

/**
 * A password given as a URL query parameter or a libpq keyword (`postgres://db/x?password=…`,
 * `password=… host=db`), which the forms above do not see.
 */
const PASSWORD_PARAMETER = /(\b(?:password|sslpassword)=)[^\s&#"'<>]+/gi;

/** `text` with every URL's userinfo replaced by `***`: `https://oauth2:TOKEN@host/x` → `https://***@host/x`. */
export function redactCredentials(text: string): string {
  if (!mayHoldCredentials(text)) return text;
  if (/password=/i.test(text)) text = text.replace(PASSWORD_PARAMETER, `$1${REDACTED_USERINFO}`);
  if (!text.includes('@') && !/%(?:25)*40/i.test(text)) return text;
  return text
    .replace(SCHEME_USERINFO, `$1${REDACTED_USERINFO}@`)
    .replace(
      ENCODED_USERINFO,
      (match, opening: string) => `${opening}${REDACTED_USERINFO}${encodedAt(match)}`,
    )
    .replace(SCP_WITH_PASSWORD, `$1${REDACTED_USERINFO}@`);
}

/**
 * False when nothing in `text` can be a credential redactCredentials would hide (no `password=`, no `@`, no
 * encoded `@`): the cheap test before the regular expressions. JSON text of a value answers for every string
 * in it, since JSON escaping never adds or removes these characters.
 */
export function mayHoldCredentials(text: string): boolean {
  return text.includes('@') || /password=|%(?:25)*40/i.test(text);
}

/** The closing `%40` as it was encoded (`%40`, `%2540`…), so the result stays decodable the same number of times. */
function encodedAt(match: string): string {
  return /%(?:25)*40$/i.exec(match)?.[0] ?? '%40';
}

/**
 * Every string inside a JSON-like value redacted (objects and arrays copied, other values kept), walked with an
 * explicit stack so a deep value cannot overflow the call stack.
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactCredentials(value) as T;
  if (value === null || typeof value !== 'object') return value;
  const root = copyShell(value as object);
  const stack: Array<[from: object, to: Record<string, unknown>]> = [[value as object, root]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [from, to] = top;
    for (const [key, child] of Object.entries(from)) {
      if (typeof child === 'string') to[key] = redactCredentials(child);
      else if (child !== null && typeof child === 'object') {
        const copy = copyShell(child as object);
        to[key] = copy;
        stack.push([child as object, copy]);
      } else to[key] = child;
    }
  }
  return root as T;
}

const copyShell = (value: object): Record<string, unknown> =>
  (Array.isArray(value) ? [] : {}) as Record<string, unknown>;
