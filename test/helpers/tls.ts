import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A self-signed certificate for localhost / 127.0.0.1, valid for 100 years. TEST ONLY: the key is
 * public in this repo. Shipped rather than generated so tests need no openssl on the CI machine.
 */
export function selfSignedCertificate(): { key: string; cert: string } {
  const file = (name: string) => readFileSync(fileURLToPath(new URL(name, import.meta.url)), 'utf8');
  return { key: file('./tls-test-key.pem'), cert: file('./tls-test-cert.pem') };
}
