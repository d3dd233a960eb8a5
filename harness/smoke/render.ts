/** Pure: a smoke report as a terminal table, with the baseline column and start-up time per platform. */
import type { SmokeReport } from './report.ts';

const pad = (s: string, n: number) => (s.length >= n ? `${s} ` : s.padEnd(n));

export function renderSmoke(r: SmokeReport, width = 140): string {
  const lines: string[] = [];
  const imgW = Math.min(64, Math.max(5, ...r.images.map((i) => i.image.length)) + 2);
  lines.push(`${pad('IMAGE', imgW)}${pad('PLATFORM', 13)}${pad('HOW', 10)}${pad('VERDICT', 20)}${pad('START', 9)}${pad('BASELINE', 14)}REASON`);
  for (const img of r.images) {
    if (img.error) {
      lines.push(`${pad(img.image, imgW)}${pad('-', 13)}${pad('-', 10)}${pad('invalid', 20)}${pad('', 9)}${pad('', 14)}${img.error}`);
      continue;
    }
    img.platforms.forEach((p, i) => {
      const start = p.startupMs !== undefined ? `${p.startupMs} ms` : '-';
      const base = p.sweep ? (p.sweep.baseline ?? 'none') : '-';
      const room = Math.max(20, width - imgW - 66);
      const reason = p.reason.length > room ? `${p.reason.slice(0, room - 1)}…` : p.reason;
      lines.push(`${pad(i === 0 ? img.image : '', imgW)}${pad(p.platform, 13)}${pad(p.how, 10)}${pad(p.verdict, 20)}${pad(start, 9)}${pad(base, 14)}${reason}`);
      for (const e of p.sweep?.entries ?? []) {
        const why = e.instruction ? `${e.instruction.feature} (${e.instruction.introduced}) at ${e.instruction.pc}` : e.verdict === 'ok' ? '' : e.reason;
        lines.push(`${pad('', imgW)}${pad('', 13)}${pad(`  ${e.model}`, 30)}${pad(e.verdict, 23)}${e.standsFor}${why ? ` — ${why}` : ''}`);
      }
    });
  }
  for (const p of r.problems) lines.push(`problem: ${p.from}: ${p.message}${p.fix ? ` (fix: ${p.fix})` : ''}`);
  const counts = Object.entries(r.summary.byVerdict).map(([v, n]) => `${n} ${v}`).join(', ');
  lines.push('');
  lines.push(`${r.summary.images} image(s) × ${r.platforms.length} platform(s)${r.cpus.length ? `, arm64 swept over ${r.cpus.join(', ')}` : ''}: ${counts || 'nothing checked'}`);
  return `${lines.join('\n')}\n`;
}
