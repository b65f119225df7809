/** Reads the configuration, the register and the data map: parsed and checked (the YAML parser and the schemas). */
import { dirname } from 'node:path';
import { ConfigFile } from '../../core/config.js';
import { type DataMapResult, parseDataMap, validateDataMap } from '../../core/datamap/datamap-load.js';
import { RegistreError } from '../../core/errors.js';
import { formatIssue } from '../../core/issues.js';
import {
  type LoadResult,
  parseRegister,
  type Register,
  type RegisterSource,
} from '../../core/register/register-load.js';
import { validateRegister } from '../../core/register/validate-register.js';
import { parseYamlSource, type YamlSource } from '../../core/yaml-source.js';
import { configSource, type LoadedConfig } from './config-paths.js';
import { readRegisterSources } from './register-files.js';

/** Reads `file`, or `./registre.yaml` when it exists; a named file that is missing is an error. */
export function readConfig(file: string | undefined, cwd: string = process.cwd()): LoadedConfig {
  const source = configSource(file, cwd);
  return source ? parseConfig(source) : { file: null, dir: cwd, config: {} };
}

/** A configuration file's text, parsed and checked; an invalid one is an error that lists its issues. */
export function parseConfig(source: { path: string; text: string }): LoadedConfig {
  const { data, issues } = parseYamlSource({ file: source.path, text: source.text }, ConfigFile);
  if (!data)
    throw new RegistreError(
      'E_CONFIG',
      `the configuration is not valid:\n${issues.map(formatIssue).join('\n')}`,
    );
  return { file: source.path, dir: dirname(source.path), config: data };
}

/** Reads, parses and checks a data map against its register. */
export function loadDataMap(path: string, register: Register, cwd?: string): DataMapResult {
  return checkDataMap(readRegisterSources(path, cwd), register);
}

/** Parses a data map's files and checks them against the register. */
export function checkDataMap(sources: readonly YamlSource[], register: Register): DataMapResult {
  const result = parseDataMap(sources);
  if (!result.datamap) return result;
  return { ...result, issues: [...result.issues, ...validateDataMap(register, result.datamap)] };
}

/** Reads, parses and validates a register: structural issues first, then semantic ones. */
export function loadRegister(path: string, cwd?: string): LoadResult {
  return checkRegister(readRegisterSources(path, cwd));
}

/** Parses and validates a register's files: structural issues first, then semantic ones. */
export function checkRegister(sources: readonly RegisterSource[]): LoadResult {
  const result = parseRegister(sources);
  if (!result.register) return result;
  return { ...result, issues: [...result.issues, ...validateRegister(result.register)] };
}
