import { codePointLabel, controlCharacterAt, escapeControl } from '../../manifest/control.js';
import { and, anyOf, eq } from './vergeos-filter.js';
import { VergeosClient, VergeosError } from './vergeos-client.js';

interface Cached<T> {
  value: T;
  until: number;
}

/** Keys per look-up request when naming many VMs at once (a filter of `$key eq …` clauses). */
const KEYS_PER_REQUEST = 50;

/**
 * Names and keys of VergeOS objects, looked up with filtered GETs and cached for `ttlMs`, so repeated runs
 * stay well inside the hourly request budget. Tag members are read fresh on each resolution (one request):
 * the operator's tagging in VergeOS applies to the next run.
 */
export class VergeosDirectory {
  private readonly vmKeys = new Map<string, Cached<string>>();
  private readonly vmNames = new Map<string, Cached<string>>();
  private readonly tagKeys = new Map<string, Cached<string>>();

  constructor(
    private readonly client: VergeosClient,
    private readonly ttlMs: number,
    private readonly now: () => Date,
  ) {}

  /** The `$key` of the VM named `name` (not a snapshot); VergeosError when there is none or several. */
  async vmKey(name: string, signal: AbortSignal): Promise<string> {
    const hit = this.fresh(this.vmKeys, name);
    if (hit !== undefined) return hit;
    const rows = await this.client.list('vms', {
      filter: and(eq('name', name), eq('is_snapshot', false)),
      fields: '$key,name',
      signal,
    });
    if (rows.length === 0) throw new VergeosError(`no VM named ${JSON.stringify(name)} in VergeOS`, false);
    if (rows.length > 1)
      throw new VergeosError(
        `${rows.length} VMs are named ${JSON.stringify(name)} in VergeOS; rename all but one`,
        false,
      );
    const key = String(rows[0]!.$key);
    this.remember(name, key);
    return key;
  }

  forget(name: string): void {
    this.vmKeys.delete(name);
  }

  /** The names of the VMs tagged `tag` (in `category` when given), sorted. */
  async tagMembers(tag: string, category: string | undefined, signal: AbortSignal): Promise<string[]> {
    const tagKey = await this.tagKey(tag, category, signal);
    const members = await this.client.list('tag_members', {
      filter: eq('tag', Number(tagKey)),
      fields: '$key,tag,member',
      signal,
    });
    const vmKeys = members
      .map((m) => String(m.member ?? ''))
      .filter((ref) => ref.startsWith('vms/'))
      .map((ref) => ref.slice('vms/'.length));
    const names = await this.vmNamesOf(vmKeys, signal);
    // The member rule of a Tag manifest: a name reaches argv (${NAME}), logs and terminals, so none is raw.
    for (const name of names) {
      const at = controlCharacterAt(name);
      if (at !== -1)
        throw new VergeosError(
          `VergeOS tag ${JSON.stringify(tag)}: its member VM "${escapeControl(name)}" holds the control character ${codePointLabel(name, at)}; rename it in VergeOS`,
          false,
        );
    }
    return [...new Set(names)].sort();
  }

  private async tagKey(tag: string, category: string | undefined, signal: AbortSignal): Promise<string> {
    const id = `${category ?? ''}\u0000${tag}`;
    const hit = this.fresh(this.tagKeys, id);
    if (hit !== undefined) return hit;
    let filter = eq('name', tag);
    if (category !== undefined) {
      const categories = await this.client.list('tag_categories', {
        filter: eq('name', category),
        fields: '$key,name',
        signal,
      });
      if (categories.length === 0)
        throw new VergeosError(`no tag category named ${JSON.stringify(category)} in VergeOS`, false);
      filter = and(filter, eq('category', Number(categories[0]!.$key)));
    }
    const tags = await this.client.list('tags', { filter, fields: '$key,name,category', signal });
    if (tags.length === 0) throw new VergeosError(`no tag named ${JSON.stringify(tag)} in VergeOS`, false);
    if (tags.length > 1)
      throw new VergeosError(
        `${tags.length} VergeOS tags are named ${JSON.stringify(tag)} (in different categories); set membersOf.vergeos.tagCategory`,
        false,
      );
    const key = String(tags[0]!.$key);
    this.tagKeys.set(id, { value: key, until: this.now().getTime() + this.ttlMs });
    return key;
  }

  private async vmNamesOf(keys: string[], signal: AbortSignal): Promise<string[]> {
    const names: string[] = [];
    const missing: string[] = [];
    for (const key of keys) {
      const hit = this.fresh(this.vmNames, key);
      if (hit !== undefined) names.push(hit);
      else missing.push(key);
    }
    for (let i = 0; i < missing.length; i += KEYS_PER_REQUEST) {
      const chunk = missing.slice(i, i + KEYS_PER_REQUEST);
      const rows = await this.client.list('vms', {
        filter: anyOf('$key', chunk.map(Number)),
        fields: '$key,name',
        signal,
      });
      for (const row of rows) {
        const name = String(row.name ?? '');
        if (!name) continue;
        this.remember(name, String(row.$key));
        names.push(name);
      }
    }
    return names;
  }

  private remember(name: string, key: string): void {
    const until = this.now().getTime() + this.ttlMs;
    this.vmKeys.set(name, { value: key, until });
    this.vmNames.set(key, { value: name, until });
  }

  private fresh(map: Map<string, Cached<string>>, id: string): string | undefined {
    const hit = map.get(id);
    if (!hit) return undefined;
    if (hit.until > this.now().getTime()) return hit.value;
    map.delete(id);
    return undefined;
  }
}
