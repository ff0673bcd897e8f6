import { describe, expect, it } from 'vitest';
import {
  codePointLabel,
  controlCharacterAt,
  escapeControl,
  escapeControlKeepingLines,
} from '../../src/manifest/control.js';

describe('control characters', () => {
  it('finds C0, DEL and C1 characters, and nothing in printable text of any script', () => {
    expect(controlCharacterAt('gpu-ws-01 é 名前 🚀')).toBe(-1);
    expect(
      ['a\u0000', 'a\t', 'a\n', 'a\r', 'a\u001b', 'a\u007f', 'a\u0085', 'a\u009b'].map(controlCharacterAt),
    ).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(codePointLabel('a\u009b', 1)).toBe('U+009B');
  });

  it('escapes every control character of a one-line text, line feeds and tabs included', () => {
    expect(escapeControl('\u001b]0;x\u0007\ta\nb\u009b')).toBe(
      String.raw`\u001b]0;x\u0007\u0009a\u000ab\u009b`,
    );
  });

  it('keeps line feeds and tabs in a text of several lines, and escapes the rest', () => {
    expect(escapeControlKeepingLines('line 1\n\tline\r2\u001b[2J')).toBe(
      String.raw`line 1` + '\n\t' + String.raw`line\u000d2\u001b[2J`,
    );
  });

  it('escapes the bidirectional-text controls as it escapes control characters, in both forms', () => {
    const bidi = '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c';
    const shown = String.raw`\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c`;
    expect(escapeControl(`a${bidi}b`)).toBe(`a${shown}b`);
    expect(escapeControlKeepingLines(`a\n${bidi}`)).toBe(`a\n${shown}`);
    // Letters of right-to-left scripts, and the joiners that shape them, print as they are.
    expect(escapeControl('שלום مرحبا \u200d\u200c')).toBe('שלום مرحبا \u200d\u200c');
  });
});
