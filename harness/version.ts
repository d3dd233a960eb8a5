/** meshcheck's own version, from its package.json (found relative to this file, in a clone or in node_modules). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function meshcheckVersion(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'meshcheck' && pkg.version) return (cached = pkg.version);
    } catch {
      // not here; look one level up
    }
    dir = path.dirname(dir);
  }
  return (cached = '0.0.0-unknown');
}
