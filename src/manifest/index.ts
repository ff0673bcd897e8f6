export { loadManifests, loadDesiredState, type LoadOptions, type LoadResult } from './load.js';
export { ManifestError, formatProblem, type ManifestProblem } from './errors.js';
export { BUILTIN_ACTIONS } from './semantic.js';
export { validateObject, type ObjectValidation } from './object.js';
export type { DriverCatalog } from './references.js';
export { compiledSchemas, SCHEMAS } from './schemas.js';
export { LIMITS } from './limits.js';
export { jsonDepthExcess, valueDepthExceeds } from './depth.js';
export * from './types.js';
