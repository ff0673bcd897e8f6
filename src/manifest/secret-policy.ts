import path from 'node:path';
import picomatch from 'picomatch';
import { controlCharacterAt, escapeControl } from './control.js';
import type { EngineConfig } from './types.js';

/** The operator's `secrets` section of the engine config: what manifests may reference. */
export type SecretsAllowlist = NonNullable<EngineConfig['secrets']>;

/** Decides which `{env}` / `{file}` references a manifest may make. Pure: it never reads a secret. */
export interface SecretPolicy {
  /**
   * Why `ref` may not be read, worded to follow the reference (`{env: X} <refusal>`), or null when it may.
   * Takes `unknown` because a store written by hand or by another version may hold any shape.
   */
  refusal(ref: unknown): string | null;
}

/** The engine's own settings and API token: never readable by a manifest, even through `*`. */
const ENGINE_OWN_ENV = /^TASKOPS_/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CONFIG_FILE = 'taskops.config.yaml';

/** The policy of an allowlist; an absent allowlist (or an absent list in it) allows nothing. */
export function secretPolicy(allowlist: SecretsAllowlist | undefined): SecretPolicy {
  const envAllowed = matcher(allowlist?.env);
  const fileAllowed = matcher(allowlist?.files);
  return {
    refusal(ref) {
      if (!ref || typeof ref !== 'object' || Array.isArray(ref))
        return 'is not a secret reference; write {env: NAME} or {file: PATH}';
      const { env, file } = ref as Record<string, unknown>;
      if (env !== undefined && file !== undefined) return 'names both env and file: give exactly one';
      if (env !== undefined) return envRefusal(env, envAllowed);
      if (file !== undefined) return fileRefusal(file, fileAllowed);
      return 'names neither env nor file';
    },
  };
}

/** `{env: NAME}` / `{file: PATH}`: safe to print, it says where the secret lives, not what it is. */
export function describeSecretRef(ref: unknown): string {
  if (!ref || typeof ref !== 'object') return JSON.stringify(ref) ?? String(ref);
  const { env, file } = ref as Record<string, unknown>;
  const show = (v: unknown) => (typeof v === 'string' ? escapeControl(v) : JSON.stringify(v));
  const parts = [
    ...(env !== undefined ? [`env: ${show(env)}`] : []),
    ...(file !== undefined ? [`file: ${show(file)}`] : []),
  ];
  return `{${parts.join(', ')}}`;
}

function matcher(patterns: readonly string[] | undefined): (value: string) => boolean {
  return patterns && patterns.length > 0 ? picomatch([...patterns]) : () => false;
}

function envRefusal(name: unknown, allowed: (name: string) => boolean): string | null {
  if (typeof name !== 'string' || !ENV_NAME.test(name)) return 'is not an environment variable name';
  if (ENGINE_OWN_ENV.test(name))
    return "is one of the engine's own settings (TASKOPS_*), which no manifest may read, whatever the allowlist says";
  if (allowed(name)) return null;
  return `is not allowed by the engine's secrets allowlist; ask the operator to add ${name} to secrets.env in ${CONFIG_FILE}`;
}

function fileRefusal(file: unknown, allowed: (file: string) => boolean): string | null {
  if (typeof file !== 'string' || file === '' || controlCharacterAt(file) !== -1) return 'is not a file path';
  if (!file.startsWith('/'))
    return 'is not an absolute path; name the file from the root, like /run/secrets/taskops/token';
  // Refused, not normalised: the system resolves `..` after following symlinks, so the file a lexically
  // normalised path names is not always the file that would be read. Only a plain path means one file.
  const plain = path.posix.normalize(file);
  if (plain !== file)
    return `is not a plain absolute path (no . or .. segments, no doubled slashes); it would name ${plain}`;
  if (allowed(file)) return null;
  return `is not allowed by the engine's secrets allowlist; ask the operator to add ${file} to secrets.files in ${CONFIG_FILE}`;
}
