/**
 * One self-contained HTML report (no network: inline CSS and SVG, no scripts): the cell × check matrix, each
 * failure with its evidence, crash verdicts, and latency charts — the percentile distribution per platform and the
 * emulation ratio. Pure.
 */
import { latencyRows, type LatencyRow } from '../latency.ts';
import type { MatrixV1 } from '../schema.ts';

const esc = (s: unknown) => String(s ?? '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string);

const COLORS: Record<string, string> = { pass: '#1a7f37', fail: '#cf222e', flaky: '#bf8700', 'infra-error': '#8250df', skipped: '#6e7781', interrupted: '#6e7781' };
const PLATFORM_COLORS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700'];

function badge(status: string): string {
  return `<span class="badge" style="background:${COLORS[status] ?? '#6e7781'}">${esc(status)}</span>`;
}

/** Percentile distribution per platform: x = percentile (50, 90, 99, 99.9), y = µs, log scale. */
function percentileChart(rows: LatencyRow[]): string {
  const W = 640;
  const H = 300;
  const pad = { l: 70, r: 200, t: 20, b: 40 };
  const pts = ['p50', 'p90', 'p99', 'p999'] as const;
  const values = rows.flatMap((r) => pts.map((p) => r[p])).filter((v) => v > 0);
  if (!values.length) return '';
  const lo = Math.log10(Math.min(...values) * 0.8);
  const hi = Math.log10(Math.max(...values) * 1.25);
  const x = (i: number) => pad.l + (i * (W - pad.l - pad.r)) / (pts.length - 1);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - (Math.log10(v) - lo) / (hi - lo));
  const grid: string[] = [];
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) grid.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" class="grid"/><text x="${pad.l - 6}" y="${y(10 ** e) + 4}" text-anchor="end">${(10 ** e).toLocaleString('en')} µs</text>`);
  const lines = rows.map((r, i) => {
    const c = PLATFORM_COLORS[i % PLATFORM_COLORS.length];
    const d = pts.map((p, j) => `${j ? 'L' : 'M'}${x(j).toFixed(1)},${y(Math.max(r[p], 1)).toFixed(1)}`).join(' ');
    const label = `${r.platform} ${r.how} ${r.rate}/s`;
    return `<path d="${d}" stroke="${c}" fill="none" stroke-width="2"/>${pts.map((p, j) => `<circle cx="${x(j)}" cy="${y(Math.max(r[p], 1))}" r="3" fill="${c}"><title>${esc(label)} ${p}: ${Math.round(r[p])} µs</title></circle>`).join('')}<text x="${W - pad.r + 8}" y="${pad.t + 16 * (i + 1)}" fill="${c}">${esc(label)}</text>`;
  });
  const xl = pts.map((p, j) => `<text x="${x(j)}" y="${H - pad.b + 18}" text-anchor="middle">${p === 'p999' ? 'p99.9' : p}</text>`).join('');
  return `<svg role="img" aria-label="latency percentiles per platform" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${grid.join('')}${xl}${lines.join('')}</svg>`;
}

/** Emulated / native ratio per percentile at each rate (bars). */
function ratioChart(rows: LatencyRow[]): string {
  const pairs = rows.filter((r) => r.how === 'emulated').flatMap((e) => {
    const n = rows.find((r) => r.how === 'native' && r.rate === e.rate && r.runId === e.runId);
    return n ? [{ e, n }] : [];
  });
  if (!pairs.length) return '';
  const bars = pairs.flatMap(({ e, n }) => (['p50', 'p90', 'p99', 'p999'] as const).map((p) => ({ label: `${e.arch}/${n.arch} ${p === 'p999' ? 'p99.9' : p} @${e.rate}/s`, ratio: e[p] / Math.max(n[p], 1) })));
  const W = 640;
  const rowH = 22;
  const max = Math.max(...bars.map((b) => b.ratio), 1) * 1.1;
  const x = (v: number) => 200 + (v / max) * (W - 260);
  return `<svg role="img" aria-label="emulation ratio" viewBox="0 0 ${W} ${bars.length * rowH + 10}" width="${W}" height="${bars.length * rowH + 10}">${bars
    .map((b, i) => `<text x="192" y="${i * rowH + 16}" text-anchor="end">${esc(b.label)}</text><rect x="200" y="${i * rowH + 4}" width="${Math.max(1, x(b.ratio) - 200).toFixed(1)}" height="14" fill="#8250df"/><text x="${x(b.ratio) + 6}" y="${i * rowH + 16}">${b.ratio.toFixed(2)}×</text>`)
    .join('')}</svg>`;
}

export function renderHtml(m: MatrixV1): string {
  const checkIds = [...new Set(m.cells.flatMap((c) => c.checks.map((k) => `${k.id} [${k.api}]`)))];
  const header = `<tr><th>check</th>${m.cells.map((c) => `<th>${esc(c.id)}<br>${badge(c.status)}</th>`).join('')}</tr>`;
  const body = checkIds
    .map((id) => `<tr><td>${esc(id)}</td>${m.cells.map((c) => {
      const k = c.checks.find((x) => `${x.id} [${x.api}]` === id);
      return `<td>${k ? `${badge(k.status)}` : '<span class="none">—</span>'}</td>`;
    }).join('')}</tr>`)
    .join('');
  const cellNotes = m.cells.filter((c) => c.reason).map((c) => `<li><b>${esc(c.id)}</b> ${badge(c.status)} ${esc(c.reason)}${c.fix ? `<br><i>fix: ${esc(c.fix)}</i>` : ''}</li>`).join('');
  const failures = m.cells.flatMap((c) =>
    c.checks
      .filter((k) => k.status !== 'pass' && k.status !== 'skipped')
      .map(
        (k) => `<details open><summary>${badge(k.status)} <b>${esc(c.id)}</b> ${esc(k.id)} [${esc(k.api)}]: ${esc(k.reason)}</summary>
<table class="ev"><tr><th>at</th><th>request</th><th>answer</th></tr>${k.evidence
          .map((e) => `<tr><td>${e.at} ms</td><td>${esc(e.request.method)} ${esc(e.request.url)}</td><td>${e.response ? `${e.response.status} ${esc(e.response.headers['x-echo-version'] ?? '')} ${esc(e.response.headers['x-echo-arch'] ?? '')}` : esc(e.error)}</td></tr>`)
          .join('')}</table>${k.stats ? `<p class="stats">${Object.entries(k.stats).map(([a, b]) => `${esc(a)}=${esc(b)}`).join(' · ')}</p>` : ''}</details>`,
      ),
  );
  const crashes = m.cells.flatMap((c) => (c.crash?.failures ?? []).map((f) => `<li>${badge(f.fatal ? 'fail' : 'flaky')} <b>${esc(c.id)}</b> ${esc(f.namespace)}/${esc(f.pod)} <code>${esc(f.container)}</code> ${esc(f.image)} ${f.imagePlatforms ? `[${esc(f.imagePlatforms.join(', '))}]` : ''} on ${esc(f.nodeArch ?? '?')}: <b>${esc(f.classification.kind)}</b> — ${esc(f.classification.summary)}</li>`));
  const rows = latencyRows(m);
  const latencyTable = rows.length
    ? `<table><tr><th>platform</th><th>how</th><th>rate</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>p99 uncorrected</th><th>valid</th></tr>${rows.map((r) => `<tr><td>${esc(r.platform)}</td><td>${r.how}</td><td>${r.rate}/s</td><td>${Math.round(r.p50)}</td><td>${Math.round(r.p90)}</td><td>${Math.round(r.p99)}</td><td>${Math.round(r.p999)}</td><td>${Math.round(r.uncorrectedP99)}</td><td>${r.valid ? 'yes' : '<b>NO</b>'}</td></tr>`).join('')}</table>`
    : '<p>No latency measured.</p>';
  const overall = m.cells.some((c) => c.status === 'fail') ? 'fail' : m.cells.some((c) => c.status === 'infra-error') ? 'infra-error' : 'pass';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>meshcheck report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2328;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}.badge{color:#fff;border-radius:10px;padding:1px 8px;font-size:12px;white-space:nowrap}
.none{color:#8c959f}details{margin:6px 0}summary{cursor:pointer}.ev td{font-family:ui-monospace,monospace;font-size:12px}
.stats{color:#57606a;font-size:12px}svg text{font-size:11px;fill:#57606a}.grid{stroke:#eaeef2}
</style></head><body>
<h1>meshcheck ${badge(overall)}</h1>
<p>${m.sources.length} run(s): ${m.sources.map((s) => `${esc(s.runId)} on ${esc(s.host.arch)} (${esc(s.status)})`).join(', ')} · generated ${esc(m.createdAt)}</p>
<h2>Cells × checks</h2>
<table class="matrix">${header}${body}</table>
${cellNotes ? `<ul>${cellNotes}</ul>` : ''}
<h2>Failures and their evidence</h2>
${failures.length ? failures.join('\n') : '<p>None.</p>'}
<h2>Crash verdicts</h2>
${crashes.length ? `<ul>${crashes.join('')}</ul>` : '<p>No container failed.</p>'}
<h2>Latency per architecture</h2>
${latencyTable}
${percentileChart(rows)}
<h2>Emulation ratio</h2>
${ratioChart(rows) || '<p>No emulated measurement.</p>'}
</body></html>
`;
}
