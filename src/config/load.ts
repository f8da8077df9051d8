// Loading: find the file, parse it, apply SILT_* environment overrides, validate, freeze.
// Precedence, lowest first: defaults (keys.ts) ← config file ← environment. This module is the
// only place in Silt that reads process.env and process.argv.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ConfigError } from './error.ts';
import { CONFIG_PATH_ENV, ENV_PREFIX, KEY_BY_ENV, KEY_BY_NAME, KEY_TABLE, SECTIONS, type KeySpec } from './keys.ts';
import { didYouMean } from './suggest.ts';
import type { ConfigValue, SiltConfig } from './types.ts';
import { crossCheck } from './validate.ts';
import { describeType, formatGiven, fromEnv, fromToml } from './value-types.ts';

export type Env = Record<string, string | undefined>;

export interface LoadOptions {
  /** Command-line arguments; only `--config PATH` / `--config=PATH` is read. Default: process.argv.slice(2). */
  argv?: string[];
  /** Default: process.env. */
  env?: Env;
  /** Directory a relative --config / SILT_CONFIG path is resolved against. Default: process.cwd(). */
  cwd?: string;
}

/** A value taken from the environment, with the variable that gave it. */
interface EnvValue {
  readonly value: ConfigValue;
  readonly from: string;
}

/**
 * The configuration of this process: the file named by `--config` (or SILT_CONFIG), if any,
 * with SILT_* environment variables applied over it. Throws ConfigError on any problem.
 */
export function loadConfig(opts: LoadOptions = {}): SiltConfig {
  const argv = opts.argv ?? process.argv.slice(2);
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const located = locateConfigFile(argv, env);
  if (located === null) return buildConfig(null, env, 'no config file', cwd);

  const file = path.resolve(cwd, located.path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`cannot read config file ${file} (named by ${located.from}): ${reason}`, { cause: err });
  }
  return buildConfig(text, env, file, cwd);
}

/**
 * The configuration given by a TOML document and environment (default: none), for tests and
 * tools. `source` names the document in messages. Relative paths are checked against process.cwd().
 */
export function parseConfig(tomlText: string, env: Env = {}, source = 'config text'): SiltConfig {
  return buildConfig(tomlText, env, source, process.cwd());
}

function locateConfigFile(argv: readonly string[], env: Env): { path: string; from: string } | null {
  const given: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--config') {
      const next = argv[i + 1];
      if (next === undefined || next === '') throw new ConfigError('--config needs a path: --config /etc/silt/config.toml');
      given.push(next);
      i++;
    } else if (arg.startsWith('--config=')) {
      const value = arg.slice('--config='.length);
      if (value === '') throw new ConfigError('--config needs a path: --config=/etc/silt/config.toml');
      given.push(value);
    }
  }
  if (given.length > 1) {
    throw new ConfigError(`--config given ${given.length} times (${given.join(', ')}); give one config file`);
  }
  const fromArgv = given[0];
  if (fromArgv !== undefined) return { path: fromArgv, from: '--config' };
  const fromEnv = env[CONFIG_PATH_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { path: fromEnv, from: CONFIG_PATH_ENV };
  return null;
}

function buildConfig(text: string | null, env: Env, source: string, cwd: string): SiltConfig {
  const problems: string[] = [];
  const fileValues = text === null ? new Map<string, ConfigValue>() : readToml(text, source, problems);
  const envValues = readEnv(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const mismatch = roleMismatch(fileValues, envValues, source);
  if (mismatch !== null) throw new ConfigError(mismatch);

  const origin = new Map<string, string>();
  const root: Record<string, unknown> = {};
  for (const spec of KEY_TABLE) {
    const fromEnvVar = envValues.get(spec.key);
    const fromFile = fileValues.get(spec.key);
    let value = spec.default;
    origin.set(spec.key, 'default');
    if (fromFile !== undefined) {
      value = fromFile;
      origin.set(spec.key, source);
    }
    if (fromEnvVar !== undefined) {
      value = fromEnvVar.value;
      origin.set(spec.key, fromEnvVar.from);
    }
    let table = root;
    for (const part of spec.section.split('.')) {
      table[part] ??= {};
      table = table[part] as Record<string, unknown>;
    }
    table[spec.name] = Array.isArray(value) ? [...value] : value;
  }
  // Sound because the key table has exactly one row per leaf of SiltConfig, each with a value
  // type matching the leaf's TypeScript type (enforced by KeyDefinitions in keys.ts).
  const config = root as unknown as SiltConfig;

  const crossProblems = crossCheck(config, (key) => origin.get(key) ?? 'default', cwd);
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  return deepFreeze(config);
}

/** A value as a message shows it: never a secret's (startup errors end up in logs). */
function given(spec: KeySpec, shown: string): string {
  return spec.secret ? 'a value not shown here (it is a secret)' : shown;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function readToml(text: string, source: string, problems: string[]): Map<string, ConfigValue> {
  let document: Record<string, unknown>;
  try {
    document = parse(text, { integersAsBigInt: true });
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
    throw new ConfigError(
      `cannot parse config file ${source}: ${reason} at line ${err.line}, column ${err.column}\n${err.codeblock}`,
      { cause: err },
    );
  }
  const values = new Map<string, ConfigValue>();
  walkTable(document, '', source, values, problems);
  return values;
}

function walkTable(
  table: Record<string, unknown>,
  prefix: string,
  source: string,
  values: Map<string, ConfigValue>,
  problems: string[],
): void {
  for (const [name, raw] of Object.entries(table)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const spec = KEY_BY_NAME.get(key);
    if (spec !== undefined) {
      const parsed = fromToml(spec.type, raw);
      if (parsed.ok) values.set(key, parsed.value);
      else problems.push(`config key ${key}: expected ${describeType(spec.type)}, got ${given(spec, formatGiven(raw))} (from ${source})`);
    } else if (SECTIONS.has(key)) {
      if (isTable(raw)) walkTable(raw, key, source, values, problems);
      else problems.push(`config key ${key}: expected a table [${key}], got ${formatGiven(raw)} (from ${source})`);
    } else {
      const known = [...KEY_BY_NAME.keys(), ...SECTIONS];
      problems.push(`unknown config key ${key} in ${source}${didYouMean(key, known)}`);
    }
  }
}

/**
 * Every SILT_* variable is configuration: an unknown one is a typo that would otherwise be
 * silently ignored, so it is an error.
 */
function readEnv(env: Env, problems: string[]): Map<string, EnvValue> {
  const values = new Map<string, EnvValue>();
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_PATH_ENV || text === undefined) continue;
    const spec = KEY_BY_ENV.get(name);
    if (spec === undefined) {
      problems.push(
        `unknown environment variable ${name}${didYouMean(name, [...KEY_BY_ENV.keys(), CONFIG_PATH_ENV])}; ` +
          'every SILT_* variable is read as configuration (see docs/configuration.md)',
      );
      continue;
    }
    const parsed = fromEnv(spec.type, text);
    if (!parsed.ok) {
      problems.push(`config key ${spec.key}: expected ${describeType(spec.type, true)}, got ${given(spec, JSON.stringify(text))} (from ${name})`);
      continue;
    }
    const earlier = values.get(spec.key);
    if (earlier !== undefined && JSON.stringify(earlier.value) !== JSON.stringify(parsed.value)) {
      problems.push(
        `config key ${spec.key}: ${earlier.from} = ${JSON.stringify(env[earlier.from])} and ${name} = ` +
          `${JSON.stringify(text)} disagree; set only one of them`,
      );
      continue;
    }
    values.set(spec.key, { value: parsed.value, from: name });
  }
  return values;
}

/** The guide's message, for an environment role that contradicts the file's. */
function roleMismatch(fileValues: Map<string, ConfigValue>, envValues: Map<string, EnvValue>, source: string): string | null {
  const configured = fileValues.get('distributed.role');
  const processing = envValues.get('distributed.role');
  if (typeof configured !== 'string' || processing === undefined || typeof processing.value !== 'string') return null;
  if (configured === processing.value) return null;
  const title = (role: string): string => role.charAt(0).toUpperCase() + role.slice(1);
  return (
    `Role mismatch: node configured as ${title(configured)} but processing as ${title(processing.value)} ` +
    `(config key distributed.role = ${JSON.stringify(configured)} in ${source}, ` +
    `${processing.from} = ${JSON.stringify(processing.value)}; make them agree or remove one)`
  );
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
