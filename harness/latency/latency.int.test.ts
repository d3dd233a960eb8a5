import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { runCommand } from '../process/run.ts';
import { requireTestbed } from '../testing/testbed.ts';
import type { LatencyReport } from './run-latency.ts';

const bed = await requireTestbed();
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/meshcheck.js');

describe.runIf(bed)('meshcheck latency on the Docker target', () => {
  test('the echo workload native amd64 vs arm64 under QEMU: both measured, emulated slower, nothing left running', { timeout: 180_000 }, async () => {
    const image = bed!.images['meshcheck/echo']!.ref;
    const r = await runCommand(
      process.execPath,
      [bin, 'latency', '--image', image, '--rates', '50', '--duration', '3s', '--warmup', '1s', '--reps', '2', '--json'],
      { timeoutMs: 170_000 },
    );
    // Exit 1 only means a cell was not valid on this loaded 2-core machine; the report is still complete.
    expect([0, 1], r.stderr).toContain(r.exitCode);
    const report = JSON.parse(r.stdout) as LatencyReport;
    expect(report.schema).toBe('meshcheck.latency/v1');
    expect(report.environment).toMatchObject({ hostArch: 'amd64', qemu: expect.stringMatching(/^\d+\.\d+/) });
    expect(report.cells.map((c) => [c.platform, c.how, c.rate, c.reps.length])).toEqual([
      ['linux/amd64', 'native', 50, 2],
      ['linux/arm64', 'emulated', 50, 2],
    ]);
    for (const c of report.cells) {
      // 50/s for 3 s, twice; merged histograms hold every completed request.
      expect(c.corrected.count).toBeGreaterThanOrEqual(290);
      expect(c.corrected.p50).toBeGreaterThan(0);
      expect(c.corrected.p99).toBeGreaterThanOrEqual(c.corrected.p50);
      expect(c.correctedHistogram.length).toBeGreaterThan(10);
    }
    expect(report.ratios[0]!.p50).toBeGreaterThan(1); // Node under QEMU answers more slowly than native Node
    const left = await runCommand('docker', ['ps', '-aq', '--filter', 'label=meshcheck.managed=true']);
    expect(left.stdout.trim()).toBe('');
  });
});
