#!/usr/bin/env node
// From a clone the TypeScript sources run directly (Node strips types outside node_modules); an installed package
// has no sources, only the built JavaScript in dist/ (Node does not strip types under node_modules).
import { existsSync } from 'node:fs';

const source = new URL('../harness/cli/main.ts', import.meta.url);
const built = new URL('../dist/harness/cli/main.js', import.meta.url);
const { main } = await import(existsSync(source) ? source.href : built.href);
await main();
