/**
 * Reading report files for merge, gate and the renderers: each file is parsed and validated on its own, so one
 * bad file is named with the reason and the fix and the others are still used.
 */
import { readFile } from 'node:fs/promises';
import { type MatrixV1, matrixSchema, type RunReportV1, runReportSchema } from './schema.ts';

export interface ReadProblem {
  file: string;
  message: string;
  fix: string;
}

export type AnyReport = { kind: 'run'; file: string; report: RunReportV1 } | { kind: 'matrix'; file: string; report: MatrixV1 };

export async function readReports(files: readonly string[]): Promise<{ reports: AnyReport[]; problems: ReadProblem[] }> {
  const reports: AnyReport[] = [];
  const problems: ReadProblem[] = [];
  for (const file of files) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      problems.push({ file, message: e.code === 'ENOENT' ? 'no such file' : `not JSON (${e.message.split('\n')[0]})`, fix: e.code === 'ENOENT' ? 'check the path' : 'pass a report written by `meshcheck run --json` or `meshcheck merge`' });
      continue;
    }
    const schema = (json as { schema?: unknown })?.schema;
    const parsed = schema === 'meshcheck.matrix/v1' ? matrixSchema.safeParse(json) : runReportSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
      problems.push({ file, message: `not a meshcheck report (schema ${JSON.stringify(schema ?? null)}): ${first.join('; ')}`, fix: 'pass reports of schema meshcheck.run/v1 or meshcheck.matrix/v1 (reports/schemas/)' });
      continue;
    }
    reports.push(schema === 'meshcheck.matrix/v1' ? { kind: 'matrix', file, report: parsed.data as MatrixV1 } : { kind: 'run', file, report: parsed.data as RunReportV1 });
  }
  return { reports, problems };
}
