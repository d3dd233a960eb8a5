#!/usr/bin/env node
/**
 * `npm run bench`: figures, not pass/fail. BENCH=traffic or BENCH=audit runs one part; default both.
 *
 * traffic (scripts/bench-traffic.ts; no test bed needed): the generator's accuracy against a server with known
 * stalls beside autocannon and wrk, its capacity on one core, and its overhead against a closed-loop undici client.
 *
 * audit (needs the test bed, `npm run testbed -- up`):
 * audit: 12 multi-arch images × 2 platforms in the local registry, audited by meshcheck (the CLI, one process,
 * as a user runs it) against `skopeo inspect --override-arch` for the same 24 image × platform pairs (one process
 * each, run sequentially and 8 at a time), in the same run. Then --deep: bytes of layers read against the total.
 */
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { runChecked, runCommand } from '../harness/process/run.ts';
import { type FileSpec, pushImage, pushIndex } from '../harness/testing/oci-builder.ts';
import { benchTraffic } from './bench-traffic.ts';
import { readState } from './testbed/state.ts';

const which = process.env.BENCH ?? 'all';
if (which === 'all' || which === 'traffic') {
  console.log('=== traffic engine ===');
  await benchTraffic();
}
if (which === 'traffic') process.exit(0);
console.log('\n=== audit ===');

const REPS = Number(process.env.BENCH_REPS ?? 5);
const IMAGES = 12;
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const meshcheckBin = path.join(root, 'bin', 'meshcheck.js');

const bed = await readState();
if (!bed) {
  console.error('bench: the test bed is not up; run `npm run testbed -- up` (as root) first');
  process.exit(3);
}
const reg = bed.registry.addr;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Image i: three layers (base with busybox, ~1 MiB of data, the app); the app sits in the top or bottom layer. */
async function pushBenchImages(): Promise<string[]> {
  const refs: string[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const repo = `bench/app-${String(i).padStart(2, '0')}`;
    const entries = [];
    for (const arch of ['amd64', 'arm64']) {
      const app: FileSpec = { path: `usr/local/bin/app${i}`, hostFile: bed!.binaries[`busybox-${arch}`]!, mode: 0o755 };
      const base: FileSpec[] = [{ path: 'bin/busybox', hostFile: bed!.binaries[`busybox-${arch}`]!, mode: 0o755 }, { path: 'bin/sh', symlink: 'busybox' }];
      // Pseudo-random filler (compresses poorly, like real binaries and libraries do).
      const filler = Buffer.alloc(1024 * 1024);
      for (let j = 0; j < filler.length; j++) filler[j] = (j * 2654435761 + i * 97) >>> 24;
      const appOnTop = i % 2 === 0;
      const pushed = await pushImage(reg, repo, undefined, {
        architecture: arch,
        entrypoint: [`app${i}`],
        env: ['PATH=/usr/local/bin:/bin'],
        layers: [
          { files: appOnTop ? base : [...base, app] },
          { files: [{ path: `opt/data-${i}.bin`, content: filler }] },
          { files: appOnTop ? [app] : [{ path: `etc/version-${i}`, content: String(i) }] },
        ],
      });
      entries.push({ ...pushed, platform: { os: 'linux', architecture: arch } });
    }
    await pushIndex(reg, repo, '1', entries);
    refs.push(`${reg}/${repo}:1`);
  }
  return refs;
}

async function meshcheckAudit(refs: string[], deep: boolean) {
  const r = await runCommand(process.execPath, [meshcheckBin, 'audit', '--insecure-registry', reg, '--json', ...(deep ? ['--deep'] : []), ...refs], { timeoutMs: 300_000 });
  if (r.exitCode !== 0) throw new Error(`meshcheck audit failed (exit ${r.exitCode}): ${r.stderr.slice(-500)}`);
  return JSON.parse(r.stdout) as { images: Array<{ platforms: Array<{ verdict: string; deep?: { bytesRead: number; bytesTotal: number; layersRead: number; layersTotal: number } }> }> };
}

async function skopeo(refs: string[], parallel: number) {
  const limit = pLimit(parallel);
  await Promise.all(
    refs.flatMap((ref) =>
      ['amd64', 'arm64'].map((arch) =>
        limit(() => runChecked('skopeo', ['inspect', '--tls-verify=false', '--override-os', 'linux', '--override-arch', arch, `docker://${ref}`], { timeoutMs: 60_000 })),
      ),
    ),
  );
}

const refs = await pushBenchImages();
console.log(`bench: ${IMAGES} images × 2 platforms in ${reg}, ${REPS} repetitions, median wall time\n`);
// Warm-up: registry caches, page cache, Node's compile cache.
await meshcheckAudit(refs, false);
await skopeo(refs, 8);

const results: Record<string, number[]> = { 'meshcheck audit (1 process)': [], 'skopeo inspect ×24, sequential': [], 'skopeo inspect ×24, 8 at a time': [], 'meshcheck audit --deep': [] };
for (let rep = 0; rep < REPS; rep++) {
  results['meshcheck audit (1 process)']!.push(await timed(() => meshcheckAudit(refs, false)));
  results['skopeo inspect ×24, sequential']!.push(await timed(() => skopeo(refs, 1)));
  results['skopeo inspect ×24, 8 at a time']!.push(await timed(() => skopeo(refs, 8)));
  results['meshcheck audit --deep']!.push(await timed(() => meshcheckAudit(refs, true)));
}
const base = median(results['meshcheck audit (1 process)']!);
console.log('| run | median ms | vs meshcheck audit |');
console.log('|---|---:|---:|');
for (const [name, xs] of Object.entries(results)) {
  console.log(`| ${name} | ${median(xs).toFixed(0)} | ${(median(xs) / base).toFixed(2)}× |`);
}

const deep = await meshcheckAudit(refs, true);
let read = 0;
let total = 0;
let layersRead = 0;
let layersTotal = 0;
for (const img of deep.images) {
  for (const p of img.platforms) {
    read += p.deep?.bytesRead ?? 0;
    total += p.deep?.bytesTotal ?? 0;
    layersRead += p.deep?.layersRead ?? 0;
    layersTotal += p.deep?.layersTotal ?? 0;
  }
}
console.log(`\n--deep: read ${read} of ${total} compressed layer bytes (${((100 * read) / total).toFixed(1)}%), ${layersRead} of ${layersTotal} layers`);
