export {
  loadEngineConfig,
  driverCatalog,
  ConfigError,
  DEFAULT_CONFIG_FILE,
  type ResolvedConfig,
} from './load.js';
export { parseDuration } from './duration.js';
