import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compiledSchemas, SCHEMAS } from '../manifest/schemas.js';
import { displayPath, translateSchemaErrors } from '../manifest/schema-errors.js';
import { builtInDriver, DRIVER_TYPES, driverCatalog as catalogOf } from '../manifest/drivers.js';
import { parseManifestFile, type ParsedDocument } from '../manifest/parse.js';
import { isValidTimeZone } from '../manifest/time.js';
import { findTemplateProblems } from '../manifest/template.js';
import type { EngineConfig } from '../manifest/types.js';
import { parseDestinationList } from './destinations.js';
import { parseDuration } from './duration.js';

export const DEFAULT_CONFIG_FILE = 'taskops.config.yaml';

/** Engine settings with every default filled in. */
export interface ResolvedConfig {
  config: EngineConfig &
    Required<Pick<EngineConfig, 'defaultTimezone' | 'catchUpWindow' | 'maxConcurrentRuns' | 'drivers'>>;
  /** The file it came from, or null when none was found (built-in defaults). */
  file: string | null;
  catchUpWindowMs: number;
  /** Folder relative paths in the config are resolved against. */
  baseDir: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Reads `file` (or ./taskops.config.yaml when present), validates it against schemas/config.schema.json,
 * then applies TASKOPS_* environment overrides. A named file that is missing is an error; the default one is optional.
 */
export function loadEngineConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedConfig {
  const chosen =
    file ?? env.TASKOPS_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const { raw, doc } = chosen ? readConfigFile(chosen) : { raw: {}, doc: undefined };
  applyEnvOverrides(raw, env);
  // Environment overrides are checked like the file: a bad TASKOPS_* value fails here, not at run time.
  const validate = compiledSchemas().config;
  const valid: boolean = validate(raw);
  const messages = valid ? [] : translateSchemaErrors(validate.errors ?? [], raw, SCHEMAS.config, []);
  const semantic = semanticProblems(raw as EngineConfig);
  if (messages.length > 0 || semantic.length > 0) {
    const where = chosen ?? 'engine settings (TASKOPS_* environment)';
    const lines = [
      ...messages.map((m) => {
        const at = doc ? doc.positions.locate(m.path, { key: m.atKey }) : null;
        return at ? `${where}:${at.line}:${at.col}: ${m.message}` : `${where}: ${m.message}`;
      }),
      ...semantic.map((m) => `${where}: ${m}`),
    ];
    throw new ConfigError(`invalid engine config:\n  ${lines.join('\n  ')}`);
  }
  const config = raw as unknown as ResolvedConfig['config'];
  return {
    config,
    file: chosen ?? null,
    catchUpWindowMs: parseDuration(config.catchUpWindow)!,
    baseDir: chosen ? path.dirname(path.resolve(chosen)) : process.cwd(),
  };
}

/** The settings mapping of a config file; an empty file (or only comments) means all defaults. */
function readConfigFile(file: string): { raw: Record<string, unknown>; doc: ParsedDocument | undefined } {
  if (!existsSync(file)) throw new ConfigError(`${file}: engine config file not found`);
  const text = readFileSync(file, 'utf8');
  const parsed = parseManifestFile(file, text);
  const first = parsed.problems.find((p) => !p.message.startsWith('no manifests in this file'));
  if (first) throw new ConfigError(`${file}:${first.location.line}:${first.location.col}: ${first.message}`);
  const doc = parsed.documents[0];
  if (!doc || doc.value === null) return { raw: {}, doc: undefined };
  if (typeof doc.value !== 'object' || Array.isArray(doc.value)) {
    throw new ConfigError(`${file}: must be a mapping of settings`);
  }
  return { raw: doc.value as Record<string, unknown>, doc };
}

function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  if (env.TASKOPS_DEFAULT_TIMEZONE) raw.defaultTimezone = env.TASKOPS_DEFAULT_TIMEZONE;
  if (env.TASKOPS_CATCH_UP_WINDOW) raw.catchUpWindow = env.TASKOPS_CATCH_UP_WINDOW;
  if (env.TASKOPS_MAX_CONCURRENT_RUNS) {
    const n = Number(env.TASKOPS_MAX_CONCURRENT_RUNS);
    // Keep non-numbers as text so the schema names the bad value instead of NaN.
    raw.maxConcurrentRuns = Number.isNaN(n) ? env.TASKOPS_MAX_CONCURRENT_RUNS : n;
  }
  if (env.TASKOPS_MAX_PENDING_WORK) {
    const n = Number(env.TASKOPS_MAX_PENDING_WORK);
    raw.maxPendingWork = Number.isNaN(n) ? env.TASKOPS_MAX_PENDING_WORK : n;
  }
  if (env.TASKOPS_SMTP_URL || env.TASKOPS_SMTP_FROM) {
    const smtp = { ...((raw.smtp as Record<string, unknown>) ?? {}) };
    if (env.TASKOPS_SMTP_URL) smtp.url = env.TASKOPS_SMTP_URL;
    if (env.TASKOPS_SMTP_FROM) smtp.from = env.TASKOPS_SMTP_FROM;
    raw.smtp = smtp;
  }
}

function semanticProblems(config: EngineConfig): string[] {
  const out: string[] = [];
  if (config.defaultTimezone && !isValidTimeZone(config.defaultTimezone)) {
    out.push(`defaultTimezone: unknown time zone ${JSON.stringify(config.defaultTimezone)}`);
  }
  const destinations: unknown = config.webhooks?.allowDestinations;
  // Entries that are not strings are the schema's to report.
  if (Array.isArray(destinations) && destinations.every((d) => typeof d === 'string')) {
    out.push(...parseDestinationList(destinations as string[]).problems);
  }
  for (const [type, driver] of Object.entries(config.drivers ?? {})) {
    if (builtInDriver(type)) out.push(`drivers.${type}: ${type} is built in and cannot be redefined`);
    const fixed = driver ? DRIVER_TYPES[driver.type]?.actions : null;
    if (fixed && driver?.actions)
      out.push(
        `drivers.${type}.actions: a ${driver.type} driver's actions are fixed (${fixed.join(', ')}); remove actions`,
      );
    for (const [action, argv] of Object.entries(driver?.actions ?? {})) {
      (argv ?? []).forEach((arg, i) => {
        for (const p of findTemplateProblems(arg))
          out.push(`${displayPath(['drivers', type, 'actions', action, i])}: ${p.message}`);
      });
    }
  }
  for (const [name, source] of Object.entries(config.eventSources ?? {})) {
    if (!source) continue;
    if (config.drivers?.[source.driver]?.type !== source.type)
      out.push(
        `eventSources.${name}.driver: ${source.driver} is not a ${source.type} driver in drivers; name the object type whose driver has type ${source.type}`,
      );
    const everyMs = parseDuration(source.pollInterval ?? '30s') ?? 30_000;
    const perHour = Math.ceil(3_600_000 / everyMs) * (source.alarms === false ? 1 : 2);
    const budget = config.drivers?.[source.driver]?.requestsPerHour ?? 1000;
    // Polling must leave most of the shared budget to the actions themselves.
    if (perHour > budget / 2)
      out.push(
        `eventSources.${name}.pollInterval: ${source.pollInterval ?? '30s'} costs ${perHour} requests per hour, more than half of the ${source.driver} driver's budget (${budget}); poll less often`,
      );
    for (const [i, rule] of (source.rules ?? []).entries()) {
      try {
        new RegExp(rule.text, 'i');
      } catch {
        out.push(
          `eventSources.${name}.rules[${i}].text: not a regular expression: ${JSON.stringify(rule.text)}`,
        );
      }
    }
  }
  return out;
}

/** Object type → actions offered, for validating manifests against this engine (the driver declarations). */
export function driverCatalog(config: EngineConfig): Record<string, string[]> {
  return catalogOf(config);
}
