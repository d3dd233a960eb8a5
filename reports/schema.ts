/**
 * The versioned report schemas: `meshcheck.run/v1` (one run: preflight and cells, written by `meshcheck run`) and
 * `meshcheck.matrix/v1` (many runs merged by `meshcheck merge`). Zod is the source; `npm run` of
 * scripts/gen-schemas.ts writes the JSON Schemas in reports/schemas/ for other tools. Nested stage reports (doctor,
 * audit, smoke, latency) keep their own schemas and are carried as they are.
 */
import { z } from 'zod';

const stage = z.object({
  stage: z.string(),
  status: z.enum(['ok', 'failed', 'error', 'skipped']),
  durationMs: z.number(),
  report: z.unknown().optional(),
  message: z.string().optional(),
  fix: z.string().optional(),
  exitCode: z.number().optional(),
});

const exchange = z.object({
  request: z.object({ method: z.string(), url: z.string(), headers: z.record(z.string(), z.string()).optional(), tls: z.boolean().optional() }),
  response: z.object({ status: z.number(), headers: z.record(z.string(), z.string()), body: z.unknown().optional() }).optional(),
  error: z.string().optional(),
  at: z.number(),
  durationMs: z.number().optional(),
});

const check = z.object({
  id: z.string(),
  api: z.string(),
  status: z.enum(['pass', 'fail', 'flaky', 'infra-error', 'skipped']),
  reason: z.string(),
  attempts: z.number(),
  durationMs: z.number(),
  evidence: z.array(exchange),
  stats: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
});

const crashFailure = z.object({
  namespace: z.string(),
  pod: z.string(),
  container: z.string(),
  image: z.string(),
  nodeName: z.string().optional(),
  nodeArch: z.string().optional(),
  fatal: z.boolean(),
  imagePlatforms: z.array(z.string()).optional(),
  classification: z.object({ kind: z.string(), summary: z.string(), evidence: z.string().optional() }),
});

export const cellResultSchema = z.object({
  id: z.string(),
  cell: z.object({ provider: z.string(), arch: z.string(), mode: z.string() }).optional(),
  istioVersion: z.string().optional(),
  cluster: z.object({ provider: z.string(), nodeImage: z.string().optional(), kubernetesVersion: z.string().optional() }).optional(),
  status: z.enum(['pass', 'fail', 'infra-error', 'skipped', 'interrupted']),
  reason: z.string().optional(),
  fix: z.string().optional(),
  stages: z.array(stage),
  checks: z.array(check),
  crash: z.object({ ok: z.boolean(), failures: z.array(crashFailure), podsSeen: z.number() }).passthrough().optional(),
});

export const runReportSchema = z.object({
  schema: z.literal('meshcheck.run/v1'),
  meshcheckVersion: z.string(),
  runId: z.string(),
  configFile: z.string().nullable(),
  host: z.object({ arch: z.string(), kernel: z.string().optional(), pageSize: z.number().optional(), qemuVersion: z.string().optional(), calibrationFactor: z.number().optional(), runner: z.string().optional() }),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  interruptedAt: z.string().optional(),
  preflight: z.record(z.string(), stage),
  cells: z.array(cellResultSchema),
  status: z.enum(['pass', 'fail', 'infra-error', 'interrupted']),
});

export type RunReportV1 = z.infer<typeof runReportSchema>;
export type CellResultV1 = z.infer<typeof cellResultSchema>;

export const matrixSchema = z.object({
  schema: z.literal('meshcheck.matrix/v1'),
  createdAt: z.string(),
  sources: z.array(z.object({ file: z.string(), runId: z.string(), status: z.string(), host: runReportSchema.shape.host })),
  /** Every cell of every run, with the run it came from. */
  cells: z.array(cellResultSchema.extend({ runId: z.string(), host: runReportSchema.shape.host })),
  /** The preflight stages of every run, by run id. */
  preflight: z.record(z.string(), z.record(z.string(), stage)),
});

export type MatrixV1 = z.infer<typeof matrixSchema>;

export function runReportJsonSchema(): unknown {
  return z.toJSONSchema(runReportSchema, { target: 'draft-2020-12', io: 'input' });
}

export function matrixJsonSchema(): unknown {
  return z.toJSONSchema(matrixSchema, { target: 'draft-2020-12', io: 'input' });
}
