/** Many run reports (and matrices) into one matrix. Pure. A cell id seen in two runs is kept twice, by run. */
import type { AnyReport } from './read.ts';
import type { MatrixV1 } from './schema.ts';

export function mergeReports(reports: readonly AnyReport[], now: Date): MatrixV1 {
  const matrix: MatrixV1 = { schema: 'meshcheck.matrix/v1', createdAt: now.toISOString(), sources: [], cells: [], preflight: {} };
  for (const r of reports) {
    if (r.kind === 'matrix') {
      matrix.sources.push(...r.report.sources);
      matrix.cells.push(...r.report.cells);
      Object.assign(matrix.preflight, r.report.preflight);
      continue;
    }
    const run = r.report;
    matrix.sources.push({ file: r.file, runId: run.runId, status: run.status, host: run.host });
    matrix.cells.push(...run.cells.map((c) => ({ ...c, runId: run.runId, host: run.host })));
    matrix.preflight[run.runId] = run.preflight;
  }
  return matrix;
}
