import { InvalidArgumentError } from 'commander';

/** The kinds `get`, `describe` and shell completion offer, as users type them. */
export const KIND_CHOICES = ['tasks', 'schedules', 'triggers', 'webhooks', 'tags'];

export function parseShare(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError('a share between 0 and 1, e.g. 0.5');
  return n;
}
