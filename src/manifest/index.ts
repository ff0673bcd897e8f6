export {
  loadManifests,
  loadDesiredState,
  manifestFilesOf,
  type LoadOptions,
  type LoadResult,
} from './load.js';
export { ManifestError, formatProblem, type ManifestProblem } from './errors.js';
export { codePointLabel, controlCharacterAt, escapeControl, escapeControlKeepingLines } from './control.js';
export { BUILTIN_ACTIONS } from './semantic.js';
export { validateObject, type ObjectValidation } from './object.js';
export type { DriverCatalog } from './references.js';
export {
  secretPolicy,
  describeSecretRef,
  type SecretPolicy,
  type SecretsAllowlist,
} from './secret-policy.js';
export { findSecretRefs, type FoundSecretRef } from './secret-references.js';
export { compiledSchemas, SCHEMAS } from './schemas.js';
export { LIMITS } from './limits.js';
export { jsonDepthExcess, valueDepthExceeds } from './depth.js';
export * from './types.js';
export {
  BUILT_IN_DRIVERS,
  DELIVERY_OBJECT_TYPES,
  DRIVER_TYPES,
  builtInDriver,
  driverDeclaration,
  type DriverDeclaration,
  type TargetKind,
} from './drivers.js';
