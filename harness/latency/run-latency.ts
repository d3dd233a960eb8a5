/**
 * `meshcheck latency` on the Docker target: the echo workload per platform (natively or through QEMU), loaded by
 * the constant-rate generator from this process at fixed rates, N interleaved repetitions, one platform's container
 * at a time (two cores: a second loaded container would distort the first).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { StartedDockerTarget } from '../../clusters/docker/docker-target.ts';
import { formatPlatform, type Platform } from '../arch/platform.ts';
import { runTraffic } from '../traffic/generator.ts';
import type { TrafficResult } from '../traffic/result.ts';
import { type CellSummary, emulationRatios, interleave, type Ratio, summarizeCell } from './summary.ts';

export const LATENCY_SCHEMA_ID = 'meshcheck.latency/v1';

export interface LatencyPlan {
  image: string;
  platforms: Platform[];
  rates: number[];
  durationMs: number;
  warmupMs: number;
  reps: number;
  hostArch: string;
  /** Path and query the generator asks the echo server for. */
  path: string;
  startupTimeoutMs: number;
}

export interface LatencyEnvironment {
  cpuModel?: string;
  cpus: number;
  kernel: string;
  hostArch: string;
  qemu?: string;
  calibrationFactor?: number;
}

export interface LatencyReport {
  schema: typeof LATENCY_SCHEMA_ID;
  meshcheckVersion: string;
  generatedAt: string;
  runId: string;
  image: string;
  environment: LatencyEnvironment;
  plan: { rates: number[]; durationMs: number; warmupMs: number; reps: number; platforms: string[]; path: string };
  cells: CellSummary[];
  ratios: Ratio[];
  /** Every cell valid: the figures can be trusted. */
  valid: boolean;
  interrupted?: boolean;
}

export async function cpuModel(): Promise<string | undefined> {
  const text = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? /^CPU part\s*:\s*(.+)$/m.exec(text)?.[1]?.trim();
}

export async function runLatency(
  target: StartedDockerTarget,
  plan: LatencyPlan,
  env: Omit<LatencyEnvironment, 'cpus' | 'kernel' | 'hostArch' | 'cpuModel'>,
  o: { meshcheckVersion: string; now: Date; signal?: AbortSignal; onRun?: (line: string) => void },
): Promise<LatencyReport> {
  const results = new Map<string, TrafficResult[]>();
  const key = (p: Platform, rate: number) => `${formatPlatform(p)} ${rate}`;
  const steps = interleave(plan.platforms, plan.rates, plan.reps);
  let interrupted = false;
  // One container per platform per repetition, all rates in it: starting an emulated Node takes seconds.
  for (let i = 0; i < steps.length && !interrupted; ) {
    const { rep, platform } = steps[i]!;
    const group = [];
    while (i < steps.length && steps[i]!.rep === rep && steps[i]!.platform === platform) group.push(steps[i++]!);
    if (o.signal?.aborted) {
      interrupted = true;
      break;
    }
    const name = formatPlatform(platform);
    o.onRun?.(`rep ${rep}/${plan.reps}: starting ${plan.image} for ${name}`);
    await using service = await target.startService({ image: plan.image, platform: name, port: 8080, readyPath: '/readyz', startupTimeoutMs: plan.startupTimeoutMs });
    for (const step of group) {
      if (o.signal?.aborted) {
        interrupted = true;
        break;
      }
      const r = await runTraffic({ url: `${service.url}${plan.path}`, rate: step.rate, durationMs: plan.durationMs, warmupMs: plan.warmupMs, ...(o.signal ? { signal: o.signal } : {}) });
      const list = results.get(key(platform, step.rate)) ?? [];
      list.push(r);
      results.set(key(platform, step.rate), list);
      o.onRun?.(
        `rep ${rep}/${plan.reps} ${name} ${step.rate}/s: p50 ${(r.corrected.p50 / 1000).toFixed(2)} ms, p99 ${(r.corrected.p99 / 1000).toFixed(2)} ms, achieved ${(r.achievedRatio * 100).toFixed(1)}%${r.valid ? '' : ` — INVALID: ${r.invalidReasons.join('; ')}`}`,
      );
    }
  }
  const cells: CellSummary[] = [];
  for (const p of plan.platforms) {
    for (const rate of plan.rates) {
      const list = results.get(key(p, rate));
      if (list?.length) cells.push(summarizeCell(formatPlatform(p), p.architecture === plan.hostArch ? 'native' : 'emulated', rate, list));
    }
  }
  const model = await cpuModel();
  return {
    schema: LATENCY_SCHEMA_ID,
    meshcheckVersion: o.meshcheckVersion,
    generatedAt: o.now.toISOString(),
    runId: target.runId,
    image: plan.image,
    environment: { ...(model ? { cpuModel: model } : {}), cpus: os.availableParallelism(), kernel: os.release(), hostArch: plan.hostArch, ...env },
    plan: { rates: plan.rates, durationMs: plan.durationMs, warmupMs: plan.warmupMs, reps: plan.reps, platforms: plan.platforms.map(formatPlatform), path: plan.path },
    cells,
    ratios: emulationRatios(cells),
    valid: !interrupted && cells.length > 0 && cells.every((c) => c.valid),
    ...(interrupted ? { interrupted } : {}),
  };
}
