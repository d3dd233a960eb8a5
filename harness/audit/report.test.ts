import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { SCHEMAS } from '../../scripts/gen-schemas.ts';
import { auditReportSchema } from './report.ts';
import { summarise } from './run-audit.ts';

describe('audit report', () => {
  test('the committed JSON Schema is what the code generates (run node scripts/gen-schemas.ts after a change)', () => {
    for (const [file, make] of Object.entries(SCHEMAS)) {
      expect(JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'))).toEqual(JSON.parse(JSON.stringify(make())));
    }
  });

  const base = { platforms: [], deep: false, meshcheckVersion: 't', now: new Date(0) };
  const p = (verdict: 'ok' | 'page-size-risk' | 'not-found' | 'unreachable') => ({ platform: 'linux/arm64', verdict, reason: '', findings: [] });

  test('exit codes: 0 all ok, 1 a failing verdict or bad input, 2 no usable input, 3 nothing could be checked', () => {
    expect(summarise([{ image: 'a', from: [], platforms: [p('ok')] }], base).exitCode).toBe(0);
    expect(summarise([{ image: 'a', from: [], platforms: [p('page-size-risk')] }], base).exitCode).toBe(1);
    expect(summarise([{ image: 'a', from: [], platforms: [p('page-size-risk')] }], { ...base, allow: new Set(['page-size-risk'] as const) }).exitCode).toBe(0);
    expect(summarise([{ image: 'a', from: [], platforms: [p('ok')] }, { image: 'b b', from: [], error: 'x', platforms: [] }], base).exitCode).toBe(1);
    expect(summarise([{ image: 'b b', from: [], error: 'x', platforms: [] }], base).exitCode).toBe(2);
    expect(summarise([], base).exitCode).toBe(2);
    expect(summarise([{ image: 'a', from: [], platforms: [p('not-found'), p('unreachable')] }], base).exitCode).toBe(3);
    expect(summarise([{ image: 'a', from: [], platforms: [p('ok'), p('unreachable')] }], base).exitCode).toBe(1);
  });

  test('a summarised report validates against its own schema', () => {
    const r = summarise([{ image: 'a', from: ['argument 1'], platforms: [p('ok')] }], base);
    expect(auditReportSchema.safeParse(r).success).toBe(true);
  });
});
