/** The colours a renderer may use; structurally the CLI's Palette, so reconcile never imports cli. */
export interface PlanPalette {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const identity = (s: string) => s;

export const PLAIN_PALETTE: PlanPalette = {
  red: identity,
  green: identity,
  yellow: identity,
  cyan: identity,
  bold: identity,
  dim: identity,
};
