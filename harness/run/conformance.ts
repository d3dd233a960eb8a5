/**
 * Running the conformance project through vitest's programmatic API: the cell's handles go in with `provide`,
 * each check's verdict and evidence come back as test metadata, read by a reporter plug-in.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CheckMeta, ConformanceCell } from '../../suites/conformance/cell.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ConformanceRun {
  results: CheckMeta[];
  /** vitest's own output (for the report's logs). */
  output: string;
}

export async function runConformance(cell: ConformanceCell, o: { testTimeoutMs: number; onResult?: (m: CheckMeta) => void }): Promise<ConformanceRun> {
  const { startVitest } = await import('vitest/node');
  const results: CheckMeta[] = [];
  let output = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      output += String(chunk);
      cb();
    },
  });
  const reporter = {
    onTestCaseResult(testCase: { meta(): { meshcheck?: CheckMeta }; name: string; result(): { state: string; errors?: readonly { message: string }[] } }) {
      const m = testCase.meta().meshcheck;
      const r = testCase.result();
      const meta: CheckMeta = m ?? { id: testCase.name, api: 'istio', status: 'infra-error', reason: r.errors?.[0]?.message ?? 'the check left no result', attempts: 0, durationMs: 0, evidence: [] };
      results.push(meta);
      o.onResult?.(meta);
    },
  };
  const vitest = await startVitest(
    [],
    {
      config: false,
      root: ROOT,
      include: ['suites/conformance/*.conformance.{ts,js}'],
      watch: false,
      testTimeout: o.testTimeoutMs,
      fileParallelism: false,
      provide: { meshcheckCell: cell },
      reporters: [reporter as never],
    },
    {},
    { stdout: sink, stderr: sink },
  );
  await vitest.close();
  return { results, output };
}
