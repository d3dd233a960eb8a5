/** Pure: the latency report as a table (milliseconds, corrected latency; uncorrected beside p99). */
import type { LatencyReport } from './run-latency.ts';

const ms = (us: number) => (us / 1000).toFixed(us < 10_000 ? 3 : 1);

export function renderLatency(r: LatencyReport): string {
  const lines: string[] = [];
  const e = r.environment;
  lines.push(`${r.image} — ${e.cpuModel ?? 'cpu unknown'} (${e.cpus} cpus), kernel ${e.kernel}${e.qemu ? `, qemu ${e.qemu}` : ''}${e.calibrationFactor ? `, emulation factor ${e.calibrationFactor}` : ''}`);
  lines.push(`${r.plan.reps} interleaved repetition(s) of ${r.plan.durationMs / 1000} s per rate; corrected latency (done − intended), ms`);
  lines.push('');
  lines.push('PLATFORM      HOW       RATE/s     p50      p90      p99    p99.9   uncorr.p99  VALID');
  for (const c of r.cells) {
    const v = c.corrected;
    lines.push(
      `${c.platform.padEnd(14)}${c.how.padEnd(10)}${String(c.rate).padStart(6)} ${ms(v.p50).padStart(8)} ${ms(v.p90).padStart(8)} ${ms(v.p99).padStart(8)} ${ms(v.p999).padStart(8)} ${ms(c.uncorrected.p99).padStart(11)}  ${c.valid ? 'yes' : `NO: ${c.invalidReasons[0] ?? ''}`}`,
    );
  }
  if (r.ratios.length) {
    lines.push('');
    lines.push('emulation ratio (emulated ÷ native, corrected):');
    for (const x of r.ratios) lines.push(`  ${x.rate}/s  ${x.emulated} ÷ ${x.native}: p50 ${x.p50}×, p90 ${x.p90}×, p99 ${x.p99}×, p99.9 ${x.p999}×`);
  }
  if (r.interrupted) lines.push('\ninterrupted: the figures above cover only what ran');
  else if (!r.valid) lines.push('\nNOT VALID: at least one cell did not hold its rate or the generator fell behind (see VALID); do not compare these figures');
  return `${lines.join('\n')}\n`;
}
