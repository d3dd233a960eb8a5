/**
 * The release gate: a matrix (and optionally the previous release's matrix) against a policy → a verdict with
 * its reasons. Pure; `meshcheck gate` turns it into an exit code.
 */
import { latencyRows, type LatencyRow } from '../latency.ts';
import type { MatrixV1 } from '../schema.ts';
import { compareRuns, type ComparisonResult, median } from './mann-whitney.ts';
import type { GatePolicy } from './policy.ts';

export interface GateReason {
  rule: string;
  ok: boolean;
  detail: string;
}

export interface GateVerdict {
  pass: boolean;
  reasons: GateReason[];
  comparisons: (ComparisonResult & { key: string })[];
}

const ARCH_KINDS = new Set(['exec-format-error', 'illegal-instruction', 'segfault', 'bus-error', 'page-size', 'missing-platform', 'emulator-crash']);

function matches(id: string, pattern: string): boolean {
  return pattern.endsWith('*') ? id.startsWith(pattern.slice(0, -1)) : id === pattern;
}

export function evaluateGate(m: MatrixV1, policy: GatePolicy, baseline?: MatrixV1): GateVerdict {
  const reasons: GateReason[] = [];
  for (const req of policy.requiredCells) {
    const cells = m.cells.filter((c) => matches(c.id, req));
    if (!cells.length) reasons.push({ rule: 'required cell', ok: false, detail: `${req}: no such cell in the matrix` });
    for (const c of cells) reasons.push({ rule: 'required cell', ok: c.status === 'pass', detail: `${c.id}: ${c.status}${c.reason ? ` (${c.reason})` : ''}` });
  }
  for (const c of m.cells) {
    for (const k of c.checks.filter((x) => x.status === 'fail')) reasons.push({ rule: 'check', ok: false, detail: `${c.id} ${k.id} [${k.api}]: ${k.reason}` });
    if (policy.infraErrorFails && c.status === 'infra-error') reasons.push({ rule: 'infra-error', ok: false, detail: `${c.id}: ${c.reason ?? 'could not run'}` });
  }
  if (policy.noCrash) {
    const crashes = m.cells.flatMap((c) => (c.crash?.failures ?? []).filter((f) => f.fatal).map((f) => `${c.id} ${f.namespace}/${f.pod} ${f.container}: ${f.classification.kind}`));
    const preflight = Object.entries(m.preflight).flatMap(([run, stages]) =>
      Object.values(stages)
        .filter((s) => s.stage === 'smoke' || s.stage === 'audit')
        .flatMap((s) => archVerdicts(s.report).map((v) => `${run} ${s.stage}: ${v}`)),
    );
    reasons.push({ rule: 'no crash or architecture verdict', ok: !crashes.length && !preflight.length, detail: [...crashes, ...preflight].join('; ') || 'none' });
  }
  const flaky = m.cells.flatMap((c) => c.checks.filter((k) => k.status === 'flaky').map((k) => `${c.id} ${k.id}`));
  reasons.push({ rule: 'flaky checks', ok: flaky.length <= policy.maxFlaky, detail: `${flaky.length} flaky (at most ${policy.maxFlaky})${flaky.length ? `: ${flaky.join(', ')}` : ''}` });

  const rows = latencyRows(m).filter((r) => r.valid);
  if (policy.latency.maxArm64ToAmd64Ratio !== undefined) {
    for (const how of ['native', 'emulated'] as const) {
      // Native arm64 is compared with native amd64 only; emulated arm64 with emulated cells only.
      const arm = rows.filter((r) => r.arch === 'arm64' && r.how === how);
      for (const a of arm) {
        const amd = rows.find((r) => r.arch === 'amd64' && r.rate === a.rate && (how === 'native' ? r.how === 'native' : r.how === 'emulated'));
        if (!amd) continue;
        const ratio = a.p99 / amd.p99;
        reasons.push({ rule: `latency ratio (${how})`, ok: ratio <= policy.latency.maxArm64ToAmd64Ratio, detail: `arm64/amd64 p99 at ${a.rate}/s: ${ratio.toFixed(2)} (at most ${policy.latency.maxArm64ToAmd64Ratio})` });
      }
    }
  }
  const comparisons: GateVerdict['comparisons'] = [];
  if (baseline && policy.latency.regression) {
    const base = latencyRows(baseline).filter((r) => r.valid);
    const key = (r: LatencyRow) => `${r.platform} ${r.how} ${r.rate}/s`;
    const group = (rs: LatencyRow[]) => rs.reduce((acc, r) => acc.set(key(r), [...(acc.get(key(r)) ?? []), ...r.p99Samples]), new Map<string, number[]>());
    const cur = group(rows);
    const old = group(base);
    for (const [k, samples] of cur) {
      const b = old.get(k);
      if (!b) continue;
      const c = compareRuns(samples, b, policy.latency.regression);
      comparisons.push({ key: k, ...c });
      reasons.push({ rule: 'latency regression', ok: c.verdict !== 'regressed', detail: `${k}: ${c.verdict} — ${c.reason} (median p99 ${median(samples)} µs vs ${median(b)} µs)` });
    }
  }
  return { pass: reasons.every((r) => r.ok), reasons, comparisons };
}

/** Architecture verdicts inside audit or smoke reports (anything but ok). */
function archVerdicts(report: unknown): string[] {
  const r = report as { images?: { image: string; platforms?: { platform: string; verdict?: string; kind?: string }[] }[] } | undefined;
  return (r?.images ?? []).flatMap((i) =>
    (i.platforms ?? []).filter((p) => (p.verdict && p.verdict !== 'ok' && p.verdict !== 'page-size-risk') || (p.kind && ARCH_KINDS.has(p.kind))).map((p) => `${i.image} ${p.platform}: ${p.verdict ?? p.kind}`),
  );
}

export function renderGate(v: GateVerdict): string {
  return `release gate: ${v.pass ? 'PASS' : 'FAIL'}\n${v.reasons.map((r) => `  ${r.ok ? 'ok  ' : 'FAIL'} ${r.rule}: ${r.detail}`).join('\n')}\n`;
}
