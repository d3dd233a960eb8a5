#!/usr/bin/env node
// Runs the built JavaScript in dist/ (what an installed package has: Node does not strip types under
// node_modules). In a clone whose TypeScript sources are newer than the build, it runs the sources directly
// instead (Node strips types outside node_modules; correct, but ~0.3 s slower to start), so a stale build is
// never what runs. MESHCHECK_FROM_SOURCE=1 forces the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';

const built = new URL('../dist/harness/cli/main.js', import.meta.url);
// Every folder the build compiles (tsconfig.build.json "include").
const sourceDirs = ['../harness/', '../clusters/', '../suites/', '../reports/'].map((d) => new URL(d, import.meta.url)).filter((u) => existsSync(u));
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
  const newest = Math.max(...sourceDirs.map(newestSource));
  return newest > statSync(built).mtimeMs ? source : built;
}

const { main } = await import(chooseEntry().href);
await main();
