/** The contract with bench/run.mjs: one final line of JSON on stdout, `{"bench": ..., "goals": [...]}`. */
import os from 'node:os';

export interface Goal {
  name: string;
  /** What was measured, in the unit of the target. */
  value: number;
  /** Human-readable target, e.g. "<= 1.3x". */
  target: string;
  met: boolean;
}

export function goal(name: string, value: number, op: '<=' | '>=', limit: number, unit = ''): Goal {
  return {
    name,
    value,
    target: `${op} ${limit}${unit}`,
    met: op === '<=' ? value <= limit : value >= limit,
  };
}

export function printResult(bench: string, figures: Record<string, unknown>, goals: Goal[] = []): void {
  console.log(JSON.stringify({ bench, ...figures, goals, node: process.version, cpus: os.cpus().length }));
}
