/**
 * The Markdown job summary ($GITHUB_STEP_SUMMARY): status per cell, failing checks with their reason, the latency
 * table per architecture and a mermaid xychart of p99 (GitHub renders mermaid in Markdown). Pure.
 */
import { latencyRows } from '../latency.ts';
import type { MatrixV1 } from '../schema.ts';

const ICON: Record<string, string> = { pass: '✅', fail: '❌', flaky: '⚠️', 'infra-error': '🛠️', skipped: '⏭️', interrupted: '⏹️' };

function cellText(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(m: MatrixV1): string {
  const out: string[] = ['## meshcheck', ''];
  out.push('| cell | status | checks | reason |', '|---|---|---|---|');
  for (const c of m.cells) {
    const n = (s: string) => c.checks.filter((k) => k.status === s).length;
    const checks = c.checks.length ? `${n('pass')} pass, ${n('fail')} fail, ${n('flaky')} flaky, ${n('infra-error')} infra, ${n('skipped')} skipped` : '—';
    out.push(`| ${cellText(c.id)} | ${ICON[c.status] ?? ''} ${c.status} | ${checks} | ${cellText(c.reason ?? '')} |`);
  }
  const failing = m.cells.flatMap((c) => c.checks.filter((k) => k.status === 'fail' || k.status === 'infra-error').map((k) => ({ c, k })));
  if (failing.length) {
    out.push('', '### Failing checks', '');
    for (const { c, k } of failing) out.push(`- **${c.id}** \`${k.id}\` [${k.api}] ${k.status}: ${cellText(k.reason)}`);
  }
  const crashes = m.cells.flatMap((c) => (c.crash?.failures ?? []).filter((f) => f.fatal).map((f) => ({ c, f })));
  if (crashes.length) {
    out.push('', '### Crash verdicts', '');
    for (const { c, f } of crashes) out.push(`- **${c.id}** ${f.namespace}/${f.pod} \`${f.container}\` (${f.image}, ${f.nodeArch ?? '?'}): ${f.classification.kind} — ${cellText(f.classification.summary)}`);
  }
  const rows = latencyRows(m);
  if (rows.length) {
    out.push('', '### Latency (echo workload, corrected for coordinated omission)', '', '| platform | how | rate (req/s) | p50 µs | p90 µs | p99 µs | p99.9 µs | p99 uncorrected µs | valid |', '|---|---|---|---|---|---|---|---|---|');
    const us = (v: number) => String(Math.round(v));
    for (const r of rows) out.push(`| ${r.platform} | ${r.how} | ${r.rate} | ${us(r.p50)} | ${us(r.p90)} | ${us(r.p99)} | ${us(r.p999)} | ${us(r.uncorrectedP99)} | ${r.valid ? 'yes' : 'NO'} |`);
    const labels = rows.map((r) => `${r.arch} ${r.how} ${r.rate}/s`);
    out.push(
      '',
      '```mermaid',
      'xychart-beta',
      '  title "p99 latency per platform (µs)"',
      `  x-axis [${labels.map((l) => `"${l}"`).join(', ')}]`,
      `  y-axis "p99 (µs)" 0 --> ${Math.ceil(Math.max(...rows.map((r) => r.p99)) * 1.1)}`,
      `  bar [${rows.map((r) => Math.round(r.p99)).join(', ')}]`,
      '```',
    );
  }
  out.push('', `<sub>${m.sources.length} run(s): ${m.sources.map((s) => `${s.runId} (${s.host.arch}, ${s.status})`).join(', ')}</sub>`, '');
  return out.join('\n');
}
