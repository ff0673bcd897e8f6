import { isReservedHeader, reservedHeaderMessage } from './headers.js';
import type { Path } from './schema-errors.js';
import { displayPath } from './schema-errors.js';

export interface SecurityFinding {
  path: Path;
  message: string;
  /** Point at the key (a header name) rather than its value. */
  atKey?: boolean;
}

/** Field names that, holding a literal, mean a secret was written into git. */
const LITERAL_SECRET_FIELDS =
  /^(token|password|passwd|secret|signingsecret|apikey|api_key|value|key|bearer|credentials?|privatekey)$/i;
const SECRET_HEADER = /authorization|token|secret|api[-_]?key|password|cookie/i;
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i;

const REFERENCE_FOR: Record<string, string> = {
  token: 'tokenFrom',
  bearer: 'tokenFrom',
  password: 'passwordFrom',
  passwd: 'passwordFrom',
  value: 'valueFrom',
  apikey: 'apiKey: {header: X-API-Key, valueFrom: ...}',
  api_key: 'apiKey: {header: X-API-Key, valueFrom: ...}',
  secret: 'signingSecretFrom',
  signingsecret: 'signingSecretFrom',
};

/**
 * Finds secrets written as literal text in a spec. Runs before schema validation so the user
 * is told "this is a secret" rather than "unknown field".
 */
export function findLiteralSecrets(spec: unknown, prefix: Path = ['spec']): SecurityFinding[] {
  const findings: SecurityFinding[] = [];
  // One path stack for the whole walk: every manifest is scanned, a path is copied only for a finding.
  const path: Path = [...prefix];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        path.push(i);
        visit(item);
        path.pop();
      });
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const key of Object.keys(node)) {
      const value = (node as Record<string, unknown>)[key];
      const isLiteral = typeof value === 'string' || typeof value === 'number';
      if (isLiteral && LITERAL_SECRET_FIELDS.test(key) && !isAllowedLiteral(path, key)) {
        const here = [...path, key];
        const reference = REFERENCE_FOR[key.toLowerCase()] ?? `${key}From`;
        findings.push({
          path: here,
          message:
            `${displayPath(here)} is a secret written as literal text; secrets never stand in a manifest: ` +
            `use ${reference.includes(':') ? reference : `${reference}: {env: NAME} or {file: PATH}`}`,
        });
      } else if (key === 'headers' && value && typeof value === 'object' && !Array.isArray(value)) {
        for (const header of Object.keys(value)) {
          if (isReservedHeader(header)) {
            findings.push({
              path: [...path, key, header],
              message: reservedHeaderMessage(header),
              atKey: true,
            });
          } else if (SECRET_HEADER.test(header)) {
            findings.push({
              path: [...path, key, header],
              message: `header ${header} carries a credential as literal text; use spec.auth (bearer, apiKey or basic) with a {env|file} reference`,
            });
          }
        }
      } else if (key === 'header' && path.at(-1) === 'apiKey' && typeof value === 'string') {
        if (isReservedHeader(value))
          findings.push({ path: [...path, key], message: reservedHeaderMessage(value) });
      } else if (key === 'url' && typeof value === 'string' && URL_WITH_PASSWORD.test(value)) {
        const here = [...path, key];
        findings.push({
          path: here,
          message: `${displayPath(here)} contains a password; use auth.type basic with passwordFrom, or urlFrom: {env: NAME}`,
        });
      } else if (value && typeof value === 'object') {
        path.push(key);
        visit(value);
        path.pop();
      }
    }
  };
  visit(spec);
  return findings;
}

/** Event `where` fields and webhook payloads are data for the receiver (a `key` or `value` there is no credential). */
function isAllowedLiteral(path: Path, key: string): boolean {
  return path.includes('where') || path.includes('payload') || (path.at(-1) === 'labels' && key !== 'token');
}
