/** Pure: an audit report as a terminal table. */
import type { AuditReport } from './report.ts';

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s.padEnd(n);
}

export function renderAudit(r: AuditReport, width = 120): string {
  const lines: string[] = [];
  const imgW = Math.min(64, Math.max(5, ...r.images.map((i) => i.image.length)) + 2);
  lines.push(`${pad('IMAGE', imgW)}${pad('PLATFORM', 14)}${pad('VERDICT', 18)}REASON`);
  for (const img of r.images) {
    if (img.error) {
      lines.push(`${pad(img.image, imgW)}${pad('-', 14)}${pad('invalid', 18)}${img.error}`);
      continue;
    }
    img.platforms.forEach((p, i) => {
      const reason = p.verdict === 'ok' ? (p.entrypoint?.elf ? `${p.entrypoint.resolved ?? ''} is ${p.entrypoint.elf.machine}` : '') : p.reason;
      const room = Math.max(20, width - imgW - 32);
      lines.push(`${pad(i === 0 ? img.image : '', imgW)}${pad(p.platform, 14)}${pad(p.verdict, 18)}${reason.length > room ? `${reason.slice(0, room - 1)}…` : reason}`);
    });
  }
  for (const p of r.problems) lines.push(`problem: ${p.from}: ${p.message}${p.fix ? ` (fix: ${p.fix})` : ''}`);
  const counts = Object.entries(r.summary.byVerdict)
    .map(([v, n]) => `${n} ${v}`)
    .join(', ');
  lines.push('');
  lines.push(`${r.summary.images} image(s) × ${r.platforms.length} platform(s)${r.deep ? ', deep' : ''}: ${counts || 'nothing checked'}`);
  return `${lines.join('\n')}\n`;
}
