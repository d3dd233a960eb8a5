/**
 * WWW-Authenticate challenges (RFC 7235 auth-params) as registries send them, e.g.
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
 *   Basic realm="Registry Realm"
 * (distribution: docs/spec/auth/token.md).
 */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse one header value; several challenges in one header are split at a scheme following a comma. */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  const re = /\s*([A-Za-z][\w!#$%&'*+.^`|~-]*)(?:\s+|$)/y;
  const param = /\s*([\w!#$%&'*+.^`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;
  let i = 0;
  while (i < header.length) {
    re.lastIndex = i;
    const m = re.exec(header);
    if (!m) break;
    const challenge: Challenge = { scheme: (m[1] ?? '').toLowerCase(), params: {} };
    i = re.lastIndex;
    for (;;) {
      param.lastIndex = i;
      const p = param.exec(header);
      if (!p) break;
      // A bare token followed by a space is the next challenge's scheme, not a param.
      challenge.params[(p[1] ?? '').toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
      i = param.lastIndex;
    }
    out.push(challenge);
    while (header[i] === ',' || header[i] === ' ') i++;
  }
  return out;
}
