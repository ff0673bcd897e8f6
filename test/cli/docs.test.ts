import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';

/** docs/cli.md is checked against the program the CLI builds: every command and flag, no more, no less. */
const DOC = readFileSync('docs/cli.md', 'utf8');

/** The body of `## name` up to the next `## `. */
function section(name: string): string {
  const start = DOC.indexOf(`\n## ${name}\n`);
  if (start < 0) return '';
  const end = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, end < 0 ? undefined : end);
}

/** The long flags in the first column of a section's option tables: `| \`-o, --output FORMAT\` |`. */
function documentedFlags(text: string): string[] {
  const flags = new Set<string>();
  for (const line of text.split('\n')) {
    // The first cell, where an escaped \| (`--repo URL\|PATH`) does not end it; only cells that open with a flag.
    const cell = /^\| ((?:[^|\\]|\\\|)+?) +\|/.exec(line)?.[1];
    if (!cell || !/^`-/.test(cell)) continue;
    for (const m of cell.matchAll(/--[a-z][a-z-]*/g)) flags.add(m[0]);
  }
  return [...flags].sort();
}

const flagsOf = (cmd: Command) =>
  cmd.options
    .map((o) => o.long!)
    .filter((f) => f !== '--help')
    .sort();

const program = buildProgram();

describe('docs/cli.md matches --help', () => {
  it('lists every command in its table of commands, in --help order', () => {
    const table = DOC.slice(0, DOC.indexOf('\n## '));
    const listed = [...new Set([...table.matchAll(/^\| \[`([a-z]+)/gm)].map((m) => m[1]))];
    expect(listed).toEqual(program.commands.map((c) => c.name()));
  });

  it('documents the global options', () => {
    expect(documentedFlags(section('Global options'))).toEqual(
      [...new Set([...flagsOf(program), '--help', '--version'])].sort(),
    );
  });

  // A command with subcommands (`import vergeos`) has a section per subcommand.
  const leaves = program.commands.flatMap((cmd) =>
    cmd.commands.length === 0
      ? [{ title: cmd.name(), cmd }]
      : cmd.commands.map((sub) => ({ title: `${cmd.name()} ${sub.name()}`, cmd: sub })),
  );
  for (const { title, cmd } of leaves) {
    it(`documents exactly the options of ${title}`, () => {
      const text = section(title);
      expect(text, `docs/cli.md has no "## ${title}" section`).not.toBe('');
      expect(documentedFlags(text)).toEqual(flagsOf(cmd));
    });
  }
});
