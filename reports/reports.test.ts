/**
 * Renderers and the gate on schema-valid cluster reports (a cluster cannot run here, so these reports are built
 * in the test and validated against the schema first). Reports of real runs of the Docker-target parts are
 * rendered and gated in harness/run/run.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { evaluateGate, renderGate } from './gate/gate.ts';
import { policySchema } from './gate/policy.ts';
import { renderAnnotations, renderOutputs } from './render/github.ts';
import { renderJunit } from './render/junit.ts';
import { renderMarkdown } from './render/markdown.ts';
import { matrix, run } from './fixtures/cluster-report.ts';

describe('renderers', () => {
  it('JUnit: a testsuite per cell, failure/error/skipped per check, escaped', () => {
    const xml = renderJunit(matrix(run('r1', { fail: true })));
    expect(xml).toContain('<testsuite name="kind-arm64-hybrid-istio-1.27.0" tests="4" failures="1" errors="0" skipped="1">');
    expect(xml).toContain('<failure message="the split is off: v1: 420/600 = 70.0 %, expected 80.0 %" type="fail">');
    expect(xml).toContain('<testsuite name="kind-amd64-native-istio-1.27.0" tests="1" failures="0" errors="1" skipped="0">');
    expect(xml).toMatch(/<error message="kind could not create cluster" type="infra-error">kind could not create cluster\nfix: pre-pull the node image<\/error>/);
  });

  it('Markdown: cells, failing checks, crash verdicts, the latency table and a mermaid xychart', () => {
    const md = renderMarkdown(matrix(run('r1', { fail: true, crash: true })));
    expect(md).toMatch(/\| kind-arm64-hybrid-istio-1\.27\.0 \| ❌ fail \| 2 pass, 1 fail, 0 flaky, 0 infra, 1 skipped \|/);
    expect(md).toContain('`traffic.weighted-split` [gateway-api] fail');
    expect(md).toContain('istio-system/istiod-1 `discovery` (docker.io/istio/pilot@sha256:aa, arm64): exec-format-error');
    expect(md).toContain('| linux/arm64 | emulated | 100 | 933 | 1400 | 2800 | 5600 | 1400 | yes |');
    expect(md).toMatch(/```mermaid\nxychart-beta\n {2}title "p99 latency per platform \(µs\)"\n {2}x-axis \["amd64 native 100\/s", "arm64 emulated 100\/s"\]/);
  });

  it('GitHub: ::error annotations escaped, step outputs', () => {
    const m = matrix(run('r1', { fail: true }));
    expect(renderAnnotations(m)).toContain('::error title=kind-arm64-hybrid-istio-1.27.0 traffic.weighted-split [gateway-api] fail::the split is off%3A'.replace('%3A', ':'));
    expect(renderOutputs(m, 'out.json')).toBe('status=fail\ncells=2\npassed=2\nfailed=1\nflaky=0\ninfra-errors=0\nreport=out.json\n');
  });
});

describe('release gate', () => {
  const policy = policySchema.parse({ infraErrorFails: false, maxFlaky: 1, latency: { maxArm64ToAmd64Ratio: 5, regression: {} } });

  it('passes a clean matrix, listing every rule it applied', () => {
    const v = evaluateGate(matrix(run('r1', { flaky: true })), policy);
    expect(v.pass).toBe(true);
    expect(renderGate(v)).toMatch(/^release gate: PASS\n {2}ok {3}no crash or architecture verdict: none\n {2}ok {3}flaky checks: 1 flaky \(at most 1\)/);
  });

  it('fails on a failed check, a crash verdict, too many flaky checks, a required cell, and infra-errors when told', () => {
    const strict = policySchema.parse({ requiredCells: ['kind-amd64-*'], maxFlaky: 0 });
    const v = evaluateGate(matrix(run('r1', { fail: true, crash: true, flaky: true })), strict);
    expect(v.pass).toBe(false);
    const failed = v.reasons.filter((r) => !r.ok).map((r) => r.rule);
    expect(failed).toEqual(['required cell', 'check', 'infra-error', 'no crash or architecture verdict', 'flaky checks']);
  });

  it('latency: emulated arm64 compared only with what it may be compared with; regression against a baseline by per-run samples', () => {
    const base = matrix(run('old'));
    const slower = matrix(run('new', { amdP99: [1300, 1320, 1290, 1310, 1305] }));
    const v = evaluateGate(slower, policy, base);
    const amd = v.comparisons.find((c) => c.key.startsWith('linux/amd64'));
    expect(amd?.verdict).toBe('regressed');
    expect(v.comparisons.find((c) => c.key.startsWith('linux/arm64'))?.verdict).toBe('same');
    expect(v.pass).toBe(false);
    expect(evaluateGate(matrix(run('again')), policy, base).comparisons.every((c) => c.verdict === 'same')).toBe(true);
  });
});
