/**
 * serve's young generation stays at its first size until serve is ready, then grows as V8 sees fit. V8's flags
 * are process-wide, so each case runs in a node process of its own (dist/: `npx tsc` first).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const flagsModule = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../dist/cli/heap-flags.js',
);

/** New-space sizes (MB) after keeping many young objects alive, before and after serveStarted(). */
function newSpaceSizes(): { starting: number; started: number } {
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8');
    const { tuneHeapForServe, serveStarted } = await import(${JSON.stringify(flagsModule)});
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    // Objects that live a while: what makes V8 grow its young generation.
    const churn = () => { const kept = []; for (let r = 0; r < 150; r++) { const a = []; for (let i = 0; i < 20000; i++) a.push({ i, s: 'x' + i }); kept.push(a); if (kept.length > 20) kept.shift(); } };
    tuneHeapForServe();
    churn();
    const starting = newSpace();
    serveStarted();
    churn();
    console.log(JSON.stringify({ starting, started: newSpace() }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out.trim()) as { starting: number; started: number };
}

describe('serve heap flags', () => {
  it('keeps the young generation at its first size while starting, and lets it grow once ready', () => {
    const { starting, started } = newSpaceSizes();
    // Two semi-spaces of 1 MB, V8's first size on 64-bit.
    expect(starting).toBeLessThanOrEqual(2);
    expect(started).toBeGreaterThan(starting);
  });
});
