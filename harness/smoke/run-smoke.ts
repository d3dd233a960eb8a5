/** Smoke a set of images one after another (runs are CPU-bound under QEMU; parallel runs only distort timings). */
import type { CpuModel } from '../arch/isa.ts';
import { formatPlatform, type Platform } from '../arch/platform.ts';
import type { AuditInput } from '../audit/run-audit.ts';
import type { RegistryClient } from '../registry/client.ts';
import { parseReference } from '../registry/reference.ts';
import type { StartedDockerTarget } from '../../clusters/docker/docker-target.ts';
import type { SmokeCommand } from './commands.ts';
import { SMOKE_SCHEMA_ID, type SmokeReport } from './report.ts';
import { smokeImage, type SmokeRun } from './smoke-image.ts';
import { tally } from '../audit/tally.ts';

export interface RunSmokeOptions {
  platforms: Platform[];
  host: SmokeReport['host'];
  commands?: SmokeCommand[];
  timeoutMs: number;
  emulationFactor?: number;
  sweep: CpuModel[];
  sweepNotes: string[];
  allow?: ReadonlySet<string>;
  problems?: SmokeReport['problems'];
  meshcheckVersion: string;
  now: Date;
  signal?: AbortSignal;
  onImage?: (done: number, total: number, entry: SmokeReport['images'][number]) => void;
  onRun?: (image: string, platform: string, run: SmokeRun) => void;
}

export async function runSmoke(client: RegistryClient, target: StartedDockerTarget, inputs: AuditInput[], o: RunSmokeOptions): Promise<SmokeReport> {
  const images: SmokeReport['images'] = [];
  for (const [i, input] of inputs.entries()) {
    if (o.signal?.aborted) break; // Ctrl-C: report what ran
    let entry: SmokeReport['images'][number];
    try {
      const ref = parseReference(input.image);
      const smoked = await smokeImage(client, target, input.image, ref, {
        platforms: o.platforms,
        hostArch: o.host.arch,
        ...(o.commands ? { commands: o.commands } : {}),
        timeoutMs: o.timeoutMs,
        ...(o.emulationFactor ? { emulationFactor: o.emulationFactor } : {}),
        sweep: o.sweep,
        sweepNotes: o.sweepNotes,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onRun ? { onRun: o.onRun } : {}),
      });
      entry = { ...smoked, from: input.from };
    } catch (err) {
      const e = err as Error;
      entry = { image: input.image, canonical: input.image, from: input.from, error: e.name === 'ReferenceError' ? `not an image reference: ${e.message}` : e.message, platforms: [] };
    }
    images.push(entry);
    o.onImage?.(i + 1, inputs.length, entry);
  }
  const problems = o.problems ?? [];
  const { summary, exitCode } = tally(images, o.allow, problems.length);
  return {
    schema: SMOKE_SCHEMA_ID,
    meshcheckVersion: o.meshcheckVersion,
    generatedAt: o.now.toISOString(),
    runId: target.runId,
    host: o.host,
    timeouts: { nativeMs: o.timeoutMs, emulatedFactor: o.emulationFactor ?? 1 },
    platforms: o.platforms.map(formatPlatform),
    cpus: o.sweep.map((m) => m.name),
    images,
    problems,
    summary,
    exitCode,
  };
}
