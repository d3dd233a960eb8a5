#!/usr/bin/env node
// Runs the built JavaScript in dist/ (what an installed package has: Node does not strip types under
// node_modules). In a clone whose TypeScript sources are newer than the build, it runs the sources directly
// instead (Node strips types outside node_modules; correct, but ~0.3 s slower to start), so a stale build is
// never what runs. MESHCHECK_FROM_SOURCE=1 forces the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';

const built = new URL('../dist/harness/cli/main.js', import.meta.url);
const sourceDir = new URL('../harness/', import.meta.url);
const source = new URL('../harness/cli/main.ts', import.meta.url);

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  }
  return newest;
}

function chooseEntry() {
  if (!existsSync(source)) return built;
  if (process.env.MESHCHECK_FROM_SOURCE === '1' || !existsSync(built)) return source;
  return newestSource(sourceDir) > statSync(built).mtimeMs ? source : built;
}

const { main } = await import(chooseEntry().href);
await main();
