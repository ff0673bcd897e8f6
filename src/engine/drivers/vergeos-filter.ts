/**
 * VergeOS `filter` expressions (OData-like: `name eq 'gpu-ws-01' and tag eq 5`), built so a committer's text
 * (a VM or tag name) is always one quoted literal and can never add an operator, a clause or a field.
 */
export type FilterValue = string | number | boolean;

/** `'text'` with every `'` doubled, as VergeOS's own SDKs quote (pyVergeOS filters.py). */
export function quoteFilterValue(value: FilterValue): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`);
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/** `field eq value`; the field is one of ours, never a committer's, and must look like one. */
export function eq(field: string, value: FilterValue): string {
  if (!/^\$?[a-z_][a-z0-9_#]*$/i.test(field)) throw new TypeError(`not a VergeOS field name: ${field}`);
  return `${field} eq ${quoteFilterValue(value)}`;
}

/** Clauses that must all hold; an `anyOf` comes parenthesized, so nothing here needs to look inside one. */
export function and(...clauses: string[]): string {
  return clauses.join(' and ');
}

/** `(field eq a or field eq b …)`: any of the values. */
export function anyOf(field: string, values: readonly FilterValue[]): string {
  const clauses = values.map((v) => eq(field, v));
  return clauses.length === 1 ? clauses[0]! : `(${clauses.join(' or ')})`;
}
