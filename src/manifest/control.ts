/**
 * Control characters: C0 (NUL … US, TAB, LF and CR included), DEL and C1. They split or end arguments
 * and drive terminals, so names and values from a manifest or an event must never carry them raw.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Bidirectional-text controls: embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069) and the
 * marks (LRM U+200E, RLM U+200F, ALM U+061C). Printed raw they reorder what a reader sees ("Trojan Source",
 * CVE-2021-42574), so a name can show as another; they are escaped in output like control characters.
 * Letters of right-to-left scripts and the joiners that shape them are printable and stay as they are.
 */
const BIDI = String.raw`\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c`;
const UNPRINTABLE_ALL = new RegExp(String.raw`[\u0000-\u001f\u007f-\u009f${BIDI}]`, 'g');
const UNPRINTABLE_BUT_LINES = new RegExp(String.raw`[\u0000-\u0008\u000b-\u001f\u007f-\u009f${BIDI}]`, 'g');

/** The index of the first control character in the text, or -1. */
export function controlCharacterAt(text: string): number {
  return text.search(CONTROL);
}

/** `U+001B` for the character at the index: how messages name a control character without printing it. */
export const codePointLabel = (text: string, index: number): string =>
  `U+${text.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0')}`;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One-line text (a name, a table cell) with every control and bidi character shown escaped (`\u001b`). */
export function escapeControl(text: string): string {
  return text.replace(UNPRINTABLE_ALL, escape);
}

/**
 * Text of several lines (a message, a diff line) with its control and bidi characters shown escaped, except
 * line feeds and tabs: they lay the text out but cannot drive the reader's terminal.
 */
export function escapeControlKeepingLines(text: string): string {
  return text.replace(UNPRINTABLE_BUT_LINES, escape);
}
