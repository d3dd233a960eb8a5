#!/usr/bin/env node
/** Write the JSON Schemas of meshcheck's machine-readable outputs (generated from the zod schemas in the code). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditJsonSchema } from '../harness/audit/report.ts';
import { matrixJsonSchema, runReportJsonSchema } from '../reports/schema.ts';
import { writeFileAtomic } from '../harness/util/atomic-write.ts';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMAS: Record<string, () => unknown> = {
  'reports/schemas/audit.v1.schema.json': auditJsonSchema,
  'reports/schemas/run.v1.schema.json': runReportJsonSchema,
  'reports/schemas/matrix.v1.schema.json': matrixJsonSchema,
};

if (import.meta.main) {
  for (const [file, make] of Object.entries(SCHEMAS)) {
    await writeFileAtomic(path.join(root, file), `${JSON.stringify(make(), null, 2)}\n`);
    console.log(`wrote ${file}`);
  }
}
