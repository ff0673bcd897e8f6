import { createHmac } from 'node:crypto';
import type { SecretRef } from '../../manifest/types.js';
import { SecretError } from '../secrets.js';

/** Standard Webhooks asks for a key of 24 to 64 bytes; anything shorter is refused, not used. */
export const MIN_SIGNING_KEY_BYTES = 24;
const PREFIX = 'whsec_';
/** Strict, padded standard base64: Buffer.from would silently skip what is not. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const GENERATE = `generate one with: echo "${PREFIX}$(openssl rand -base64 32)"`;

/**
 * The HMAC key of a signing secret: base64 after whsec_, or the raw bytes of any other secret. A secret
 * with no key material or a short key throws a SecretError naming `ref` (never the value), before anything is sent.
 */
export function signingKey(secret: string, ref: SecretRef): Buffer {
  let key: Buffer;
  if (secret.startsWith(PREFIX)) {
    const encoded = secret.slice(PREFIX.length);
    if (encoded === '') throw new SecretError(ref, `has no key material after ${PREFIX}; ${GENERATE}`);
    if (!BASE64.test(encoded)) throw new SecretError(ref, `is not valid base64 after ${PREFIX}; ${GENERATE}`);
    key = Buffer.from(encoded, 'base64');
  } else {
    key = Buffer.from(secret, 'utf8');
  }
  if (key.length < MIN_SIGNING_KEY_BYTES)
    throw new SecretError(
      ref,
      `is shorter than ${MIN_SIGNING_KEY_BYTES} bytes of key (Standard Webhooks); ${GENERATE}`,
    );
  return key;
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` */
export function sign(key: Buffer, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/**
 * The three Standard Webhooks headers for one attempt: same id on every retry, a fresh timestamp. With
 * several keys every signature is sent, space-separated (the spec allows it): a receiver accepts any one.
 */
export function signatureHeaders(
  keys: Buffer | readonly Buffer[],
  id: string,
  now: Date,
  body: string,
): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  const all = Buffer.isBuffer(keys) ? [keys] : keys;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': all.map((key) => sign(key, id, timestamp, body)).join(' '),
  };
}
