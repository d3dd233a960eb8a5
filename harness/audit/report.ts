/**
 * `meshcheck audit --json`: a versioned document. The schema id changes when a field changes meaning or goes away;
 * new optional fields keep it. JSON Schema: reports/schemas/audit.v1.schema.json (generated from zod, checked
 * in sync by a unit test).
 */
import { z } from 'zod';
import { AUDIT_VERDICTS } from './verdicts.ts';

export const AUDIT_SCHEMA_ID = 'meshcheck.audit/v1';

const verdict = z.enum(AUDIT_VERDICTS);
const finding = z.object({ verdict, reason: z.string() });

export const platformAuditSchema = z.object({
  platform: z.string().describe('os/arch[/variant], normalised'),
  verdict: verdict.describe('the first of the findings by precedence, or ok'),
  reason: z.string(),
  findings: z.array(finding),
  manifestDigest: z.string().optional().describe('the single-platform manifest a node of this platform pulls'),
  config: z.object({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).optional(),
  entrypoint: z
    .object({
      argv: z.array(z.string()),
      resolved: z.string().optional(),
      chain: z.array(
        z.object({ path: z.string(), kind: z.string(), arch: z.string().optional(), machine: z.string().optional(), interpreter: z.string().optional() }),
      ),
      elf: z
        .object({
          arch: z.string(),
          machine: z.string(),
          linkage: z.string(),
          interpreter: z.string().optional(),
          loadAlign: z.object({ min: z.number(), max: z.number() }),
        })
        .optional(),
      problem: z.string().optional(),
    })
    .optional()
    .describe('--deep only'),
  deep: z.object({ layersRead: z.number(), layersTotal: z.number(), bytesRead: z.number(), bytesTotal: z.number() }).optional(),
});

export const imageAuditSchema = z.object({
  image: z.string().describe('as given'),
  from: z.array(z.string()).describe('where the image was found: argument, file and object, Istio version'),
  canonical: z.string().optional(),
  digest: z.string().optional(),
  mediaType: z.string().optional(),
  kind: z.enum(['index', 'manifest']).optional(),
  available: z.array(z.string()).optional(),
  attestationsIgnored: z.number().optional(),
  error: z.string().optional().describe('the input could not be audited at all (e.g. not an image reference)'),
  platforms: z.array(platformAuditSchema),
});

export const auditReportSchema = z.object({
  schema: z.literal(AUDIT_SCHEMA_ID),
  meshcheckVersion: z.string(),
  generatedAt: z.string(),
  platforms: z.array(z.string()),
  deep: z.boolean(),
  images: z.array(imageAuditSchema),
  problems: z.array(z.object({ from: z.string(), message: z.string(), fix: z.string().optional() })),
  summary: z.object({
    images: z.number(),
    checks: z.number().describe('image × platform pairs'),
    byVerdict: z.record(z.string(), z.number()),
    failing: z.number(),
    uncheckable: z.number().describe('not-found + unreachable'),
  }),
  exitCode: z.number().describe('0 all ok, 1 a failing verdict, 2 usage error, 3 nothing could be checked'),
});

export type AuditReport = z.infer<typeof auditReportSchema>;
export type ImageAuditEntry = z.infer<typeof imageAuditSchema>;

export function auditJsonSchema(): unknown {
  return z.toJSONSchema(auditReportSchema, { target: 'draft-2020-12' });
}
