/** Latency rows out of the latency stage reports a run carries (schema meshcheck.latency/v1). Pure. */
import type { MatrixV1 } from './schema.ts';

export interface LatencyRow {
  runId: string;
  platform: string;
  arch: string;
  how: 'native' | 'emulated';
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  uncorrectedP99: number;
  valid: boolean;
  /** Each repetition's corrected p99 (µs): the per-run samples the gate compares. */
  p99Samples: number[];
}

interface LatencyCell {
  platform: string;
  how: 'native' | 'emulated';
  rate: number;
  corrected: { p50: number; p90: number; p99: number; p999: number };
  uncorrected: { p99: number };
  valid: boolean;
  reps: { corrected: { p99: number } }[];
}

export function latencyRows(m: Pick<MatrixV1, 'preflight'>): LatencyRow[] {
  const rows: LatencyRow[] = [];
  const seen = new Set<string>();
  for (const [runId, stages] of Object.entries(m.preflight)) {
    for (const s of Object.values(stages)) {
      const rep = s.report as { schema?: string; cells?: LatencyCell[] } | undefined;
      if (s.stage !== 'latency' || !rep?.cells) continue;
      for (const c of rep.cells) {
        const key = `${runId} ${c.platform} ${c.rate}`;
        if (seen.has(key)) continue;
        seen.add(key);
        rows.push({
          runId,
          platform: c.platform,
          arch: c.platform.split('/')[1] ?? c.platform,
          how: c.how,
          rate: c.rate,
          p50: c.corrected.p50,
          p90: c.corrected.p90,
          p99: c.corrected.p99,
          p999: c.corrected.p999,
          uncorrectedP99: c.uncorrected.p99,
          valid: c.valid,
          p99Samples: c.reps.map((r) => r.corrected.p99),
        });
      }
    }
  }
  return rows;
}
