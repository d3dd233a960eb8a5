/**
 * Finding and loading the config, and the one resolution rule: CLI flag > config file > default.
 * The file is TypeScript (or JavaScript) imported as a module; Node strips the types.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../errors.ts';
import { ConfigError, type MeshcheckConfig, parseConfig } from './schema.ts';

export const CONFIG_FILES = ['meshcheck.config.ts', 'meshcheck.config.mts', 'meshcheck.config.js', 'meshcheck.config.mjs'];

export interface LoadedConfig {
  config: MeshcheckConfig;
  /** The file it came from, or undefined for the defaults. */
  file: string | undefined;
}

export async function loadConfig(cwd: string, explicit?: string): Promise<LoadedConfig> {
  const file = explicit ? path.resolve(cwd, explicit) : CONFIG_FILES.map((f) => path.join(cwd, f)).find((f) => existsSync(f));
  if (explicit && !existsSync(file as string)) throw new UsageError(`config file ${explicit} does not exist`, `create it (export default defineConfig({...})) or leave --config out`);
  if (!file) return { config: parseConfig({}, 'the defaults'), file: undefined };
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new UsageError(`config file ${file} cannot be loaded: ${(err as Error).message.split('\n')[0]}`, 'fix the syntax error; the file must `export default defineConfig({...})`');
  }
  if (mod.default === undefined) throw new UsageError(`config file ${file} has no default export`, 'end it with `export default defineConfig({...})`');
  try {
    return { config: parseConfig(mod.default, file), file };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, 'correct the keys named above (see README "Configuration")');
    throw err;
  }
}

export interface RunOverrides {
  istioVersions?: string[];
  arch?: string[];
  mode?: string[];
  suites?: string[];
  echoImage?: string;
  insecureRegistries?: string[];
}

/** CLI > config > default: flags replace the config's values, then the whole is validated again. */
export function applyOverrides(config: MeshcheckConfig, o: RunOverrides): MeshcheckConfig {
  const merged: Record<string, unknown> = structuredClone(config) as unknown as Record<string, unknown>;
  const m = merged as unknown as MeshcheckConfig;
  if (o.istioVersions?.length) m.mesh.versions = o.istioVersions;
  if (o.suites?.length) (m as { suites: string[] }).suites = o.suites;
  if (o.echoImage) m.images.echo = o.echoImage;
  if (o.insecureRegistries?.length) m.insecureRegistries = [...new Set([...m.insecureRegistries, ...o.insecureRegistries])];
  if (o.arch?.length || o.mode?.length) {
    m.cells = m.cells.filter((c) => (!o.arch?.length || o.arch.includes(c.arch)) && (!o.mode?.length || o.mode.includes(c.mode)));
    if (!m.cells.length) throw new UsageError(`no cell of the config matches --arch ${o.arch?.join(',') ?? '*'} --mode ${o.mode?.join(',') ?? '*'}`, 'pick values the config has, or add the cell to meshcheck.config.ts');
  }
  try {
    return parseConfig(m, 'the configuration with command-line overrides');
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, 'correct the flags named above');
    throw err;
  }
}
