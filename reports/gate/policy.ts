/** The release gate's policy (YAML or JSON), validated with messages that name the key. */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../../harness/errors.ts';

export const policySchema = z.strictObject({
  /** Cells that must be present and pass (glob-free: exact ids, or a prefix ending in *). */
  requiredCells: z.array(z.string()).default([]),
  /** No crash guard failure and no exec-format / architecture verdict anywhere. */
  noCrash: z.boolean().default(true),
  /** How many flaky checks are tolerated over the whole matrix. */
  maxFlaky: z.number().int().min(0).default(0),
  /** infra-error cells fail the gate (a release must not ship on checks that never ran). */
  infraErrorFails: z.boolean().default(true),
  latency: z
    .strictObject({
      /** arm64 / amd64 corrected p99, compared between native cells only (emulated cells only with emulated). */
      maxArm64ToAmd64Ratio: z.number().positive().optional(),
      /** Against the baseline matrix (the previous release): per-run p99 samples, Mann-Whitney U + effect floor. */
      regression: z.strictObject({ alpha: z.number().gt(0).lt(1).default(0.05), minEffect: z.number().min(0).default(0.1), minRuns: z.number().int().min(2).default(5) }).optional(),
    })
    .prefault({}),
});

export type GatePolicy = z.output<typeof policySchema>;

export async function loadPolicy(file: string | undefined): Promise<GatePolicy> {
  if (!file) return policySchema.parse({});
  let raw: unknown;
  try {
    raw = parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`policy ${file} cannot be read: ${(err as Error).message.split('\n')[0]}`, 'pass a YAML or JSON policy file (see README "Release gate")');
  }
  const r = policySchema.safeParse(raw ?? {});
  if (!r.success) {
    throw new UsageError(`policy ${file} is not valid:\n${r.error.issues.map((i) => `  - ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n')}`, 'correct the keys named above (see README "Release gate")');
  }
  return r.data;
}
