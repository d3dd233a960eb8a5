/**
 * `defineConfig` for meshcheck.config.ts: identity at run time, types at edit time (as vitest's and Playwright's).
 *
 *   import { defineConfig } from 'meshcheck';   // or a relative path inside this repository
 *   export default defineConfig({ cells: [{ arch: 'arm64', mode: 'hybrid' }], suites: ['traffic', 'mtls'] });
 */
import type { MeshcheckConfigInput } from './schema.ts';

export function defineConfig(config: MeshcheckConfigInput): MeshcheckConfigInput {
  return config;
}
