/**
 * What a webhook may put in its request headers. The same rules run in `validate` (schema patterns and
 * the security check) and in the driver, so a store written by hand cannot get around them.
 */

/** An RFC 9110 token: the only characters a field name may hold. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, space and tab: no CR/LF (header injection), no NUL, nothing a client would re-encode. */
export const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** Headers the engine sets from the URL and the body, or that steer the connection: a manifest never sets them. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

export const HEADER_NAME_HINT =
  "is not a valid HTTP header name: use letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ only (no spaces, colons or other characters)";
export const HEADER_VALUE_HINT =
  'must be printable ASCII (letters, digits, punctuation, spaces and tabs): no line breaks, control characters or non-ASCII text';

export function isReservedHeader(name: string): boolean {
  return RESERVED_HEADERS.has(name.toLowerCase());
}

export function reservedHeaderMessage(name: string): string {
  return `header ${name} is reserved: the engine sets it from the URL and the body (reserved: ${[...RESERVED_HEADERS].join(', ')}); remove it`;
}

/** The first thing wrong with one header, in words, or null when it may be sent. */
export function headerProblem(name: string, value: string): string | null {
  if (!HEADER_NAME.test(name)) return `header name ${JSON.stringify(name)} ${HEADER_NAME_HINT}`;
  if (isReservedHeader(name)) return reservedHeaderMessage(name);
  if (!HEADER_VALUE.test(value)) return `header ${name}: its value ${HEADER_VALUE_HINT}`;
  return null;
}
