import { describe, expect, it } from 'vitest';
import { resolveSecret, SecretError } from '../../../src/engine/secrets.js';

const files: Record<string, string> = {
  '/run/secrets/pw': 'hunter2\n',
  '/run/secrets/crlf': 'tok\r\n',
  '/run/secrets/two': 'a\n\n',
  '/run/secrets/empty': '\n',
};
const readFile = (path: string): string => {
  const content = files[path];
  if (content === undefined)
    throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
  return content;
};

describe('resolveSecret', () => {
  it('reads an environment variable', () => {
    expect(resolveSecret({ env: 'TOKEN' }, { TOKEN: 'abc' })).toBe('abc');
  });

  it('reads a file and trims exactly one trailing newline', () => {
    expect(resolveSecret({ file: '/run/secrets/pw' }, {}, readFile)).toBe('hunter2');
    expect(resolveSecret({ file: '/run/secrets/crlf' }, {}, readFile)).toBe('tok');
    expect(resolveSecret({ file: '/run/secrets/two' }, {}, readFile)).toBe('a\n');
  });

  it.each([
    [{ env: 'NOPE' }, 'secret {env: NOPE} is not set in the engine environment'],
    [{ env: 'BLANK' }, 'secret {env: BLANK} is empty in the engine environment'],
    [{ file: '/run/secrets/missing' }, 'secret {file: /run/secrets/missing} cannot be read (ENOENT)'],
    [{ file: '/run/secrets/empty' }, 'secret {file: /run/secrets/empty} is an empty file'],
    [{}, 'secret {} names neither env nor file'],
  ])('refuses %j with a message naming the reference', (ref, message) => {
    expect(() => resolveSecret(ref, { BLANK: '' }, readFile)).toThrow(SecretError);
    expect(() => resolveSecret(ref, { BLANK: '' }, readFile)).toThrow(message);
  });

  it('never puts a value in the error, even when a reader quotes the file', () => {
    const leaky = () => {
      throw Object.assign(new Error('EACCES: content was hunter2'), { code: 'EACCES' });
    };
    expect(() => resolveSecret({ file: '/x' }, {}, leaky)).toThrow(
      'secret {file: /x} cannot be read (EACCES)',
    );
  });
});
