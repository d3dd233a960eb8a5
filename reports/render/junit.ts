/**
 * JUnit XML: one <testsuite> per cell, one <testcase> per check (the form GitHub test-report actions read:
 * dorny/test-reporter's "java-junit", mikepenz/action-junit-report). fail → <failure>, infra-error → <error>,
 * skipped → <skipped>; flaky passes with a <system-out> note. Pure.
 */
import type { MatrixV1 } from '../schema.ts';

export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export function renderJunit(m: MatrixV1): string {
  const suites = m.cells.map((c) => {
    const cases = c.checks.map((k) => {
      const name = `${k.id} [${k.api}]`;
      const time = (k.durationMs / 1000).toFixed(3);
      const evidence = k.evidence.slice(0, 4).map((e) => `${e.request.method} ${e.request.url} → ${e.response?.status ?? e.error}`).join('\n');
      const body =
        k.status === 'fail'
          ? `<failure message="${xmlEscape(k.reason)}" type="fail">${xmlEscape(`${k.reason}\n${evidence}`)}</failure>`
          : k.status === 'infra-error'
            ? `<error message="${xmlEscape(k.reason)}" type="infra-error">${xmlEscape(k.reason)}</error>`
            : k.status === 'skipped'
              ? `<skipped message="${xmlEscape(k.reason)}"/>`
              : k.status === 'flaky'
                ? `<system-out>${xmlEscape(`flaky (passed on retry after ${k.attempts} attempts): ${k.reason}`)}</system-out>`
                : '';
      return `    <testcase classname="${xmlEscape(c.id)}" name="${xmlEscape(name)}" time="${time}">${body}</testcase>`;
    });
    if (!c.checks.length && c.status !== 'pass') {
      const tag = c.status === 'skipped' ? `<skipped message="${xmlEscape(c.reason ?? '')}"/>` : `<error message="${xmlEscape(c.reason ?? c.status)}" type="${c.status}">${xmlEscape(`${c.reason ?? ''}${c.fix ? `\nfix: ${c.fix}` : ''}`)}</error>`;
      cases.push(`    <testcase classname="${xmlEscape(c.id)}" name="cell" time="0">${tag}</testcase>`);
    }
    const count = (s: string) => c.checks.filter((k) => k.status === s).length;
    const tests = Math.max(cases.length, 1);
    const errors = count('infra-error') + (!c.checks.length && c.status !== 'pass' && c.status !== 'skipped' ? 1 : 0);
    const skipped = count('skipped') + (!c.checks.length && c.status === 'skipped' ? 1 : 0);
    return `  <testsuite name="${xmlEscape(c.id)}" tests="${tests}" failures="${count('fail')}" errors="${errors}" skipped="${skipped}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="meshcheck">\n${suites.join('\n')}\n</testsuites>\n`;
}
