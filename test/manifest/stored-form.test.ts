import { describe, expect, it } from 'vitest';
import {
  noManifests,
  pack,
  specTextOf,
  storedHashOf,
  unpack,
  withSpecOf,
} from '../../src/manifest/stored-form.js';
import type { LoadedManifest } from '../../src/manifest/types.js';
import { contentHash } from '../../src/text/content-hash.js';

const schedule = (name: string, spec: Record<string, unknown>): LoadedManifest =>
  ({
    apiVersion: 'taskops/v1',
    kind: 'Schedule',
    metadata: { name, labels: {} },
    spec,
    source: { file: 'thread copy.yaml', line: 3, col: 1 },
  }) as LoadedManifest;

function packed(...manifests: LoadedManifest[]) {
  const columns = noManifests();
  manifests.forEach((m, i) => pack(columns, m, i, i === 0 ? undefined : 40));
  return columns;
}

describe('manifests in their stored form', () => {
  const spec = { timezone: 'UTC', cron: '0 18 * * 5', enabled: true };

  it('come back equal to what was packed, in the file given, with the content hash of what was read', () => {
    const original = schedule('friday', spec);
    const columns = packed(original, schedule('other', { once: '2030-01-01T00:00' }));
    expect(columns.offsets).toEqual([-1, 40]);
    expect(columns.hashes[0]).toBe(contentHash(original.metadata, original.spec));
    const [m] = unpack(columns, 'schedules/a.yaml');
    expect(m).toStrictEqual({ ...original, source: { file: 'schedules/a.yaml', line: 3, col: 1 } });
    expect(JSON.stringify(m)).toBe(JSON.stringify({ ...original, source: m!.source }));
    expect(Object.keys(m!)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'source']);
  });

  it('keep the spec as the very text the store keeps until it is read, and parse it once', () => {
    const [m] = unpack(packed(schedule('friday', spec)), 'a.yaml');
    expect(specTextOf(m!)).toBe(JSON.stringify(spec));
    expect(Object.getOwnPropertyDescriptor(m, 'spec')?.get).toBeTypeOf('function');
    const read = m!.spec;
    expect(read).toEqual(spec);
    expect(m!.spec).toBe(read);
    expect(Object.getOwnPropertyDescriptor(m, 'spec')?.value).toBe(read);
    expect(specTextOf(m!)).toBe(JSON.stringify(spec));
  });

  it('forget the text and hash once a new spec is set, so neither is stored in place of that spec', () => {
    const [m] = unpack(packed(schedule('friday', spec)), 'a.yaml');
    expect(storedHashOf(m!)).toBe(contentHash(m!.metadata, spec));
    (m as { spec: unknown }).spec = { cron: '* * * * *' };
    expect(m!.spec).toEqual({ cron: '* * * * *' });
    expect(specTextOf(m!)).toBeUndefined();
    expect(storedHashOf(m!)).toBeUndefined();
  });

  it('lend their spec to a view, read from the manifest only when the view is read', () => {
    const [m] = unpack(packed(schedule('friday', spec)), 'a.yaml');
    const view = withSpecOf({ metadata: m!.metadata }, m!);
    expect(specTextOf(view)).toBe(JSON.stringify(spec));
    expect(Object.getOwnPropertyDescriptor(m, 'spec')?.get).toBeTypeOf('function');
    expect(view.spec).toBe(m!.spec);
    expect(view).toStrictEqual({ metadata: m!.metadata, spec });
    // A view of a manifest already read, or of one never packed, has the spec at once.
    expect(withSpecOf({}, m!).spec).toBe(m!.spec);
    const plain = schedule('plain', spec);
    expect(withSpecOf({}, plain).spec).toBe(plain.spec);
    expect(specTextOf(withSpecOf({}, plain))).toBeUndefined();
  });

  it('hide the text from copies and comparisons: a spread or clone holds the spec only', () => {
    const [m] = unpack(packed(schedule('friday', spec)), 'a.yaml');
    const copy = { ...m! };
    expect(specTextOf(copy)).toBeUndefined();
    expect(copy.spec).toEqual(spec);
    expect(specTextOf(structuredClone(m!))).toBeUndefined();
    expect(
      Object.getOwnPropertySymbols(m!).every((s) => !Object.getOwnPropertyDescriptor(m, s)!.enumerable),
    ).toBe(true);
  });
});
