/**
 * Image references, normalised as Docker and containerd do it (distribution/reference: normalize.go):
 * "istio/pilot:1.28.0" is docker.io/istio/pilot:1.28.0, "busybox" is docker.io/library/busybox:latest, and the
 * first path component is a registry only when it has a "." or ":" or is "localhost".
 */

export interface ImageReference {
  /** Registry as written/normalised: docker.io, ghcr.io, 127.0.0.1:5000. */
  registry: string;
  /** Repository path inside the registry: library/busybox, istio/pilot. */
  repository: string;
  tag?: string;
  digest?: string;
  /** The canonical text form: registry/repository[:tag][@digest]. */
  canonical: string;
}

export class ReferenceError extends Error {
  override name = 'ReferenceError';
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/;

export const DOCKER_HUB = 'docker.io';

/** Parse and normalise; throws ReferenceError saying what is wrong with the text. */
export function parseReference(text: string): ImageReference {
  const input = text.trim();
  if (!input) throw new ReferenceError('empty image reference');
  if (/\s/.test(input)) throw new ReferenceError(`"${text}" contains whitespace`);
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ReferenceError(`"${text}": "${digest}" is not a digest (expected e.g. sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ReferenceError(`"${text}": "${tag}" is not a valid tag`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
    if (!HOST.test(registry)) throw new ReferenceError(`"${text}": "${registry}" is not a registry host`);
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const c of parts) {
    if (!COMPONENT.test(c)) {
      const hint = c !== c.toLowerCase() ? ' (repository names must be lowercase)' : '';
      throw new ReferenceError(`"${text}": "${c}" is not a valid repository path component${hint}`);
    }
  }
  const repository = parts.join('/');
  if (!tag && !digest) tag = 'latest';
  const ref: ImageReference = { registry, repository, canonical: '' };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  ref.canonical = formatReference(ref);
  return ref;
}

export function formatReference(r: Pick<ImageReference, 'registry' | 'repository' | 'tag' | 'digest'>): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The host the distribution API is served from (Docker Hub's API is not on docker.io). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

/** The manifest reference to ask for: the digest when pinned, else the tag. */
export function manifestReference(r: ImageReference): string {
  return r.digest ?? r.tag ?? 'latest';
}
