// Silt's configuration: TOML file + SILT_* environment overrides, validated and frozen.
// See docs/configuration.md; every key is defined once, in keys.ts.

export type { ConfigKey, LogFormat, LogLevel, NodeRole, SiltConfig, StorageBackend } from './types.ts';
export { ConfigError } from './error.ts';
export { loadConfig, parseConfig, type Env, type LoadOptions } from './load.ts';
export { CONFIG_PATH_ENV, KEY_TABLE, envNameFor, type KeySpec } from './keys.ts';
export { checkExposure, isLoopback } from './validate.ts';
