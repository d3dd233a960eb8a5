/**
 * Audit a set of images: parse each reference (a bad one is reported and the others go on), audit images
 * concurrently through one registry client, and summarise with the exit code rule.
 */
import type { Platform } from '../arch/platform.ts';
import type { RegistryClient } from '../registry/client.ts';
import { parseReference } from '../registry/reference.ts';
import { auditImage } from './audit-image.ts';
import { AUDIT_SCHEMA_ID, type AuditReport, type ImageAuditEntry } from './report.ts';
import { tally } from './tally.ts';
import type { AuditVerdict } from './verdicts.ts';
import { formatPlatform } from '../arch/platform.ts';

export interface AuditInput {
  image: string;
  from: string[];
}

export interface RunAuditOptions {
  platforms: Platform[];
  deep: boolean;
  allow?: ReadonlySet<AuditVerdict>;
  problems?: AuditReport['problems'];
  meshcheckVersion: string;
  now: Date;
  onImage?: (done: number, total: number, entry: ImageAuditEntry) => void;
}

export async function runAudit(client: RegistryClient, inputs: AuditInput[], opts: RunAuditOptions): Promise<AuditReport> {
  let done = 0;
  const images = await Promise.all(
    inputs.map(async (input): Promise<ImageAuditEntry> => {
      let entry: ImageAuditEntry;
      try {
        const ref = parseReference(input.image);
        entry = { ...(await auditImage(client, input.image, ref, { platforms: opts.platforms, deep: opts.deep })), from: input.from };
      } catch (err) {
        entry = { image: input.image, from: input.from, error: `not an image reference: ${(err as Error).message}`, platforms: [] };
      }
      opts.onImage?.(++done, inputs.length, entry);
      return entry;
    }),
  );
  return summarise(images, opts);
}

export function summarise(images: ImageAuditEntry[], opts: Pick<RunAuditOptions, 'platforms' | 'deep' | 'allow' | 'problems' | 'meshcheckVersion' | 'now'>): AuditReport {
  const problems = opts.problems ?? [];
  const { summary, exitCode } = tally(images, opts.allow, problems.length);
  return {
    schema: AUDIT_SCHEMA_ID,
    meshcheckVersion: opts.meshcheckVersion,
    generatedAt: opts.now.toISOString(),
    platforms: opts.platforms.map(formatPlatform),
    deep: opts.deep,
    images,
    problems,
    summary,
    exitCode,
  };
}
