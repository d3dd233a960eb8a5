import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { type CapturedFailure, FAILURE_SCENARIOS, runScenario } from '../../scripts/testbed/failure-scenarios.ts';
import { requireTestbed } from '../testing/testbed.ts';
import { classifyFailure } from './classify.ts';

const bed = await requireTestbed();
const stored = new Map(
  (JSON.parse(readFileSync(new URL('./fixtures/captured-failures.json', import.meta.url), 'utf8')) as { failures: CapturedFailure[] }).failures.map(
    (f) => [f.id, f],
  ),
);
/** Lines differ run to run only in PIDs, spacing and where the test bed lives. */
const comparable = (line: string | undefined) =>
  line?.replace(/\/\S*\/bin\//g, '<bin>/').replace(/\d+/g, 'N').replace(/\s+/g, ' ');
const live = FAILURE_SCENARIOS.filter((s) => s.needs === 'emulation');

// The same real failures the unit tests read from the fixture, produced again now: the classifier must agree,
// and the line that decided it must still be what the real program prints.
describe.runIf(bed)('real failures on the test bed (qemu-aarch64 enabled)', () => {
  test.each(live.map((s) => [s.id, s] as const))('%s', async (_id, s) => {
    const run = await runScenario(bed!, s);
    const c = classifyFailure({ exitCode: run.exitCode, signal: run.signal, output: run.output, timedOut: run.timedOut });
    expect(c.kind, run.output).toBe(s.expect);
    const before = stored.get(s.id);
    expect(before, `${s.id} is missing from captured-failures.json: run node scripts/capture-failures.ts`).toBeDefined();
    const was = classifyFailure({ exitCode: before!.exitCode, signal: before!.signal, output: before!.output });
    expect(comparable(c.evidence)).toBe(comparable(was.evidence));
    expect(run.exitCode).toBe(before!.exitCode);
  });
});
