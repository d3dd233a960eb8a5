#!/usr/bin/env node
/**
 * Re-capture the classifier's fixtures from real runs on the test bed:
 *   node scripts/capture-failures.ts        (as root, test bed up)
 * Writes harness/arch/fixtures/captured-failures.json. Toggles qemu-aarch64 off for the exec-format-error
 * scenarios and always switches it back on, so do not run it while tests that need emulation are running.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBinfmt, setBinfmtHandlerEnabled } from '../harness/arch/binfmt.ts';
import { probeQemu } from '../harness/arch/host.ts';
import { runCommand } from '../harness/process/run.ts';
import { writeFileAtomic } from '../harness/util/atomic-write.ts';
import { type CapturedFailure, FAILURE_SCENARIOS, runScenario } from './testbed/failure-scenarios.ts';
import { readState } from './testbed/state.ts';

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'harness', 'arch', 'fixtures', 'captured-failures.json');
const bed = await readState();
if (!bed) {
  console.error('the test bed is not up: run `npm run testbed -- up` first');
  process.exit(3);
}
const captured: CapturedFailure[] = [];
for (const s of FAILURE_SCENARIOS.filter((s) => s.needs === 'emulation')) captured.push(await runScenario(bed, s));
const handler = bed.binfmt.handler;
await setBinfmtHandlerEnabled(handler, false);
try {
  for (const s of FAILURE_SCENARIOS.filter((s) => s.needs === 'handler-disabled')) captured.push(await runScenario(bed, s));
} finally {
  await setBinfmtHandlerEnabled(handler, true);
}
const qemu = (await readBinfmt()).handlers.find((h) => h.name === handler)?.interpreter;
const versions = {
  kernel: os.release(),
  docker: (await runCommand('docker', ['version', '--format', '{{.Server.Version}}'])).stdout.trim(),
  qemu: qemu ? (await probeQemu(qemu)).version : undefined,
  bash: (await runCommand('bash', ['--version'])).stdout.split('\n')[0]?.trim(),
  busybox: (await runCommand(bed.binaries['busybox-amd64']!, [])).stdout.split('\n')[0]?.trim(),
};
await writeFileAtomic(
  out,
  `${JSON.stringify({ capturedAt: new Date().toISOString(), capturedWith: versions, failures: captured }, null, 2)}\n`,
);
console.log(`captured ${captured.length} real failures into ${out}`);
