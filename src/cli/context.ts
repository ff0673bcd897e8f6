import type { Command } from 'commander';
import { ConfigError, driverCatalog, loadEngineConfig, type ResolvedConfig } from '../config/index.js';
import { secretPolicy, type SecretPolicy } from '../manifest/index.js';
import { CliError } from './exit.js';
import { palette, useColour, type Palette } from './output.js';

/** The root program's options, shared by every command. */
export interface GlobalOptions {
  dataDir: string;
  config?: string;
  color: boolean;
  /** A postgres:// URL: the shared store instead of SQLite in the data dir (see store.ts). */
  storeUrl?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  // A flag wins over the environment, which wins over the built-in default.
  const fromFlag = root.getOptionValueSource('dataDir') === 'cli';
  const dataDir = fromFlag ? opts.dataDir : (process.env.TASKOPS_DATA_DIR ?? opts.dataDir);
  return { dataDir, config: opts.config, color: opts.color, storeUrl: opts.storeUrl };
}

export function stdoutPalette(cmd: Command): Palette {
  return palette(useColour(process.stdout, !globalOptions(cmd).color));
}

/** The engine config, or a CliError that names the file and line. */
export function engineConfig(cmd: Command): ResolvedConfig {
  try {
    return loadEngineConfig(globalOptions(cmd).config);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/** Driver catalog only when an engine config exists: without one, non-built-in types are "unchecked". */
export function optionalCatalog(resolved: ResolvedConfig): Record<string, string[]> | undefined {
  return resolved.file ? driverCatalog(resolved.config) : undefined;
}

/** The secrets allowlist only when an engine config exists: without one, secret references are "unchecked". */
export function optionalSecretPolicy(resolved: ResolvedConfig): SecretPolicy | undefined {
  return resolved.file ? secretPolicy(resolved.config.secrets) : undefined;
}

export function parseOutputFormat<T extends string>(value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CliError(`--output must be one of ${allowed.join(', ')} (got ${value})`, 64);
  }
  return value as T;
}
