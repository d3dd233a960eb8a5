/**
 * mTLS verdicts from exchanges. Per PeerAuthentication mode:
 *  - STRICT: a plaintext client (no sidecar) is refused — a transport error (reset, closed) or a 503 from the
 *    server's sidecar — and a mesh client is served, and the server sees the client's SPIFFE identity;
 *  - PERMISSIVE: both are served;
 *  - DISABLE: the mesh client is served without an identity.
 * The identity is read from what the server saw: Envoy's x-forwarded-client-cert (the echo's
 * `forwardedClientCert[].uri`), or, where the server terminates TLS itself, its `tls.peerIdentity`.
 */
import { bodyField, type Exchange, type OracleResult } from './evidence.ts';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** The SPIFFE identity Istio gives a workload: spiffe://<trust domain>/ns/<namespace>/sa/<service account>. */
export function spiffeId(namespace: string, serviceAccount: string, trustDomain = 'cluster.local'): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The client identity the server saw, if any. */
export function peerIdentity(e: Exchange): string | undefined {
  const xfcc = bodyField(e, 'forwardedClientCert') as { uri?: string }[] | undefined;
  const fromXfcc = xfcc?.map((h) => h.uri).find((u) => u?.startsWith('spiffe://'));
  if (fromXfcc) return fromXfcc;
  const tls = bodyField(e, 'tls') as { peerIdentity?: string | null } | undefined;
  return tls?.peerIdentity ?? undefined;
}

export function refused(e: Exchange): boolean {
  return Boolean(e.error) || e.response?.status === 503;
}

export function served(e: Exchange): boolean {
  return e.response !== undefined && e.response.status < 400;
}

export interface MtlsEvidence {
  plaintext: Exchange[];
  mesh: Exchange[];
}

export function judgeMtls(mode: MtlsMode, ev: MtlsEvidence, expectedClientId?: string): OracleResult {
  const problems: string[] = [];
  const all = [...ev.plaintext, ...ev.mesh];
  if (!ev.mesh.length) problems.push('no request from a mesh client was made');
  for (const e of ev.mesh) if (!served(e)) problems.push(`a mesh client was not served (${e.response?.status ?? e.error})`);
  if (mode === 'STRICT') {
    if (!ev.plaintext.length) problems.push('no plaintext request was made');
    for (const e of ev.plaintext) if (!refused(e)) problems.push(`a plaintext client was served (${e.response?.status}) under STRICT`);
  }
  if (mode === 'PERMISSIVE') for (const e of ev.plaintext) if (!served(e)) problems.push(`a plaintext client was refused (${e.response?.status ?? e.error}) under PERMISSIVE`);
  const ids = [...new Set(ev.mesh.filter(served).map(peerIdentity))];
  if (mode !== 'DISABLE' && expectedClientId && !(ids.length === 1 && ids[0] === expectedClientId)) {
    problems.push(`the server saw identity ${ids.map((i) => i ?? '(none)').join(', ') || '(none)'}, expected ${expectedClientId}`);
  }
  if (mode === 'DISABLE' && ids.some((i) => i)) problems.push(`under DISABLE the server still saw a client identity (${ids.join(', ')})`);
  const stats = { plaintextRequests: ev.plaintext.length, plaintextServed: ev.plaintext.filter(served).length, meshRequests: ev.mesh.length, meshServed: ev.mesh.filter(served).length, identity: ids.join(',') || '(none)' };
  if (problems.length) return { verdict: 'fail', reason: [...new Set(problems)].join('; '), evidence: all.slice(0, 8), stats };
  return { verdict: 'pass', reason: `${mode}: plaintext ${mode === 'STRICT' ? 'refused' : mode === 'PERMISSIVE' ? 'served' : 'not checked'}, mesh client served${mode !== 'DISABLE' && expectedClientId ? ` as ${expectedClientId}` : ''}`, evidence: all.slice(0, 8), stats };
}
