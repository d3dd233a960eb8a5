#!/usr/bin/env node
/**
 * The traffic generator as a program, for a pod or a shell:
 *
 *   node standalone.ts --url http://svc:8080/ --rate 1000 --duration 30s [--connections 16] [--warmup 5s] [--json]
 *
 * Imports only harness/traffic and its two libraries (undici, hdr-histogram-js), so the folder plus those two
 * packages is all an image needs. The JSON on stdout is a TrafficResult (result.ts); results of several pods are
 * merged with `mergeResults`. Messages go to stderr, so stdout stays parseable.
 */
import { USAGE, parseStandaloneArgs } from './args.ts';
import { runTraffic } from './generator.ts';
import type { TrafficResult } from './result.ts';

function summary(r: TrafficResult): string {
  const row = (name: string, s: TrafficResult['corrected']) =>
    `${name.padEnd(12)} ${[s.p50, s.p90, s.p99, s.p999, s.max].map((v) => (v / 1000).toFixed(3).padStart(10)).join('')}`;
  const errors = Object.entries(r.errors.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    `${r.target}: ${r.sent} sent, ${r.completed} ok, ${r.errors.total} errors${errors ? ` (${errors})` : ''}`,
    `rate ${r.achievedRate} of ${r.rate} req/s (${(r.achievedRatio * 100).toFixed(2)}%), ${r.connections} connections, ${r.socketsOpened} opened`,
    `ms           ${['p50', 'p90', 'p99', 'p99.9', 'max'].map((h) => h.padStart(10)).join('')}`,
    row('corrected', r.corrected),
    row('uncorrected', r.uncorrected),
    row('lateness', r.lateness),
    r.valid ? 'valid' : `INVALID:\n  ${r.invalidReasons.join('\n  ')}`,
  ].join('\n');
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseStandaloneArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if ('help' in parsed) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const abort = new AbortController();
  // First Ctrl-C stops the schedule and still prints what was measured (marked invalid: not all was sent).
  process.on('SIGINT', () => (abort.signal.aborted ? process.exit(130) : abort.abort()));
  process.on('SIGTERM', () => abort.abort());
  let result: TrafficResult;
  try {
    result = await runTraffic({ ...parsed.options, signal: abort.signal });
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err instanceof RangeError || err.code === 'ERR_INVALID_URL') {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    process.stderr.write(`could not run against ${parsed.options.url}: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
    return 3;
  }
  process.stdout.write(parsed.json ? `${JSON.stringify(result)}\n` : `${summary(result)}\n`);
  return result.valid ? 0 : 1;
}

process.exitCode = await main();
