/**
 * GitHub Actions workflow commands: an `::error` annotation per failing check or cell, and step outputs for
 * $GITHUB_OUTPUT (status, counts). Values are escaped as the runner requires (%, \r, \n; and : , in properties).
 */
import type { MatrixV1 } from '../schema.ts';

const data = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const prop = (s: string) => data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function renderAnnotations(m: MatrixV1): string {
  const lines: string[] = [];
  for (const c of m.cells) {
    for (const k of c.checks.filter((x) => x.status === 'fail' || x.status === 'infra-error')) lines.push(`::error title=${prop(`${c.id} ${k.id} [${k.api}] ${k.status}`)}::${data(k.reason)}`);
    if (!c.checks.length && (c.status === 'fail' || c.status === 'infra-error')) lines.push(`::error title=${prop(`${c.id} ${c.status}`)}::${data(`${c.reason ?? ''}${c.fix ? ` — fix: ${c.fix}` : ''}`)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export function renderOutputs(m: MatrixV1, reportFile: string): string {
  const all = m.cells.flatMap((c) => c.checks);
  const n = (s: string) => all.filter((k) => k.status === s).length;
  const status = m.cells.some((c) => c.status === 'fail') ? 'fail' : m.cells.some((c) => c.status === 'infra-error') ? 'infra-error' : 'pass';
  return [`status=${status}`, `cells=${m.cells.length}`, `passed=${n('pass')}`, `failed=${n('fail')}`, `flaky=${n('flaky')}`, `infra-errors=${n('infra-error')}`, `report=${reportFile}`].join('\n') + '\n';
}
