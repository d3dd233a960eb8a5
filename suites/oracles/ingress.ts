/**
 * Ingress matching from outside the cluster: for each request sent to the gateway's host port, the expected
 * backend (or 404 for a host or path no route takes), and for TLS the certificate the gateway presented.
 */
import { bodyField, type Exchange, type OracleResult } from './evidence.ts';

export interface IngressCase {
  host: string;
  path: string;
  /** The echo `service` expected to answer, or 404. */
  expect: { service: string } | { status: 404 };
  tls?: boolean;
}

export interface IngressEvidence {
  case: IngressCase;
  exchange: Exchange;
  /** For TLS: the subject alt names of the certificate the gateway presented. */
  presentedSans?: string[];
}

export function judgeIngress(evs: readonly IngressEvidence[]): OracleResult {
  const problems: string[] = [];
  for (const { case: c, exchange: e, presentedSans } of evs) {
    const where = `${c.tls ? 'https' : 'http'}://${c.host}${c.path}`;
    if ('status' in c.expect) {
      if (e.response?.status !== 404) problems.push(`${where}: expected 404, got ${e.response?.status ?? e.error}`);
      continue;
    }
    if (!e.response || e.response.status >= 400) {
      problems.push(`${where}: expected ${c.expect.service}, got ${e.response?.status ?? e.error}`);
      continue;
    }
    const service = e.response.headers['x-echo-service'] ?? (bodyField(e, 'service') as string | undefined);
    if (service !== c.expect.service) problems.push(`${where}: answered by ${service ?? '(unknown)'}, expected ${c.expect.service}`);
    const host = bodyField(e, 'host') as string | undefined;
    if (host && host.split(':')[0] !== c.host) problems.push(`${where}: the backend saw Host ${host}`);
    if (c.tls && !(presentedSans ?? []).some((s) => s === `DNS:${c.host}` || (s.startsWith('DNS:*.') && c.host.endsWith(s.slice(5))))) {
      problems.push(`${where}: the certificate presented names ${presentedSans?.join(', ') || 'nothing'}, not ${c.host}`);
    }
  }
  const evidence = evs.map((v) => v.exchange);
  if (problems.length) return { verdict: 'fail', reason: problems.join('; '), evidence, stats: { cases: evs.length, failed: problems.length } };
  return { verdict: 'pass', reason: `${evs.length} host/path case(s) routed as expected`, evidence, stats: { cases: evs.length } };
}
