/**
 * Control characters: C0 (NUL … US, TAB, LF and CR included), DEL and C1. They split or end arguments
 * and drive terminals, so names and values from a manifest or an event must never carry them raw.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** The index of the first control character in the text, or -1. */
export function controlCharacterAt(text: string): number {
  return text.search(CONTROL);
}

/** `U+001B` for the character at the index: how messages name a control character without printing it. */
export const codePointLabel = (text: string, index: number): string =>
  `U+${text.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0')}`;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One-line text (a name, a table cell) with every control character shown escaped (`\u001b`). */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_ALL, escape);
}

/**
 * Text of several lines (a message, a diff line) with its control characters shown escaped, except line
 * feeds and tabs: they lay the text out but cannot drive the reader's terminal.
 */
export function escapeControlKeepingLines(text: string): string {
  return text.replace(CONTROL_BUT_LINES, escape);
}
