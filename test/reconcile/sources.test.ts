import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectSources } from '../../src/reconcile/index.js';

const root = path.join('/tmp', 'checkout-1234');
const at = (file: string, line: number, col = 1) => ({ file: path.join(root, file), line, col });

describe('ObjectSources', () => {
  const placed = [
    { kind: 'Tag' as const, metadata: { name: 'a' }, source: at('tags.yaml', 1) },
    { kind: 'Task' as const, metadata: { name: 'a' }, source: at('sub/tasks.yaml', 3, 5) },
    { kind: 'Tag' as const, metadata: { name: 'b' }, source: at('tags.yaml', 7, 2) },
  ];

  it("names each object's file:line:col under the display root, by kind and name", () => {
    const sources = new ObjectSources(placed, root, 'manifests');
    expect(sources.get('Tag', 'a')).toEqual({ file: 'manifests/tags.yaml', line: 1, col: 1 });
    expect(sources.get('Task', 'a')).toEqual({ file: 'manifests/sub/tasks.yaml', line: 3, col: 5 });
    expect(sources.get('Tag', 'b')).toEqual({ file: 'manifests/tags.yaml', line: 7, col: 2 });
    expect(sources.get('Task', 'b')).toBeUndefined();
    expect(sources.get('Webhook', 'a')).toBeUndefined();
    expect(ObjectSources.none.get('Tag', 'a')).toBeUndefined();
  });

  it('lists every place in the order given, one file name shared by the objects of a file', () => {
    const sources = new ObjectSources(placed, root, '.');
    const all = [...sources.values()];
    expect(all).toEqual([
      { file: 'tags.yaml', line: 1, col: 1 },
      { file: 'sub/tasks.yaml', line: 3, col: 5 },
      { file: 'tags.yaml', line: 7, col: 2 },
    ]);
    expect(all[0]!.file).toBe(all[2]!.file);
    expect([...ObjectSources.none.values()]).toEqual([]);
  });

  it('gives each caller its own copy: a changed answer changes nothing kept', () => {
    const sources = new ObjectSources(placed, root, '.');
    sources.get('Tag', 'a')!.line = 99;
    expect(sources.get('Tag', 'a')!.line).toBe(1);
  });
});
