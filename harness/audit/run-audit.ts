/**
 * Audit a set of images: parse each reference (a bad one is reported and the others go on), audit images
 * concurrently through one registry client, and summarise with the exit code rule.
 */
import type { Platform } from '../arch/platform.ts';
import type { RegistryClient } from '../registry/client.ts';
import { parseReference } from '../registry/reference.ts';
import { auditImage } from './audit-image.ts';
import { AUDIT_SCHEMA_ID, type AuditReport, type ImageAuditEntry } from './report.ts';
import { type AuditVerdict, isFailing } from './verdicts.ts';
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
  const byVerdict: Record<string, number> = {};
  let failing = 0;
  let uncheckable = 0;
  let checks = 0;
  for (const img of images) {
    for (const p of img.platforms) {
      checks++;
      byVerdict[p.verdict] = (byVerdict[p.verdict] ?? 0) + 1;
      if (isFailing(p.verdict, opts.allow)) failing++;
      if (p.verdict === 'not-found' || p.verdict === 'unreachable') uncheckable++;
    }
  }
  const invalid = images.filter((i) => i.error).length;
  const problems = opts.problems ?? [];
  let exitCode: number;
  if (images.length === 0 || invalid === images.length) exitCode = 2;
  else if (checks > 0 && uncheckable === checks) exitCode = 3;
  else exitCode = failing > 0 || invalid > 0 || problems.length > 0 ? 1 : 0;
  return {
    schema: AUDIT_SCHEMA_ID,
    meshcheckVersion: opts.meshcheckVersion,
    generatedAt: opts.now.toISOString(),
    platforms: opts.platforms.map(formatPlatform),
    deep: opts.deep,
    images,
    problems,
    summary: { images: images.length, checks, byVerdict, failing: failing + invalid, uncheckable },
    exitCode,
  };
}
