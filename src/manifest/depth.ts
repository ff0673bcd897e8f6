import { LIMITS } from './limits.js';

/**
 * The nesting depth of JSON text, counted by scanning brackets outside strings: no parse and no
 * recursion, so a hostile 30,000-deep document cannot overflow the stack before it is refused.
 * Returns the offset of the first bracket past `max`, or -1 when the text stays within it.
 */
export function jsonDepthExcess(text: string, max: number = LIMITS.maxDepth): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return i;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return -1;
}

/** True when a parsed value nests arrays/objects deeper than `max`; an explicit stack, never recursion. */
export function valueDepthExceeds(value: unknown, max: number = LIMITS.maxDepth): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
