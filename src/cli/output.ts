import { PLAIN_PALETTE, type PlanPalette } from '../reconcile/render/palette.js';

/** Terminal presentation shared by every command: colour only on a TTY, never with NO_COLOR or --no-color. */
export type Palette = PlanPalette;

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

const COLOURS: Palette = {
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
  bold: wrap(1, 22),
  dim: wrap(2, 22),
};

export function useColour(stream: NodeJS.WriteStream, noColorFlag: boolean): boolean {
  return !noColorFlag && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '') && Boolean(stream.isTTY);
}

export function palette(enabled: boolean): Palette {
  return enabled ? COLOURS : PLAIN_PALETTE;
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const row of all)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  return all
    .map((row) =>
      row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell)),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

// eslint-disable-next-line no-control-regex
const visibleLength = (s: string) => s.replace(/\u001b\[\d+m/g, '').length;
