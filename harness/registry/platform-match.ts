/**
 * Which entry of an index a node of a given platform would pull, as containerd decides it
 * (containerd/platforms: platforms.Only and the default matcher): os and architecture must be equal after
 * normalisation; arm64 "v8" is the same as no variant; an arm/v7 node also takes v6 and v5 entries (best first);
 * BuildKit attestation entries (platform unknown/unknown, vnd.docker.reference.type) are not images at all.
 */
import { normalizeArch, type Platform as MeshcheckPlatform } from '../arch/platform.ts';
import type { IndexEntry, Platform } from './manifest.ts';

export const ATTESTATION_TYPE = 'vnd.docker.reference.type';

export function isAttestation(e: IndexEntry): boolean {
  return e.annotations?.[ATTESTATION_TYPE] !== undefined || (e.platform?.os === 'unknown' && e.platform?.architecture === 'unknown');
}

/** The normalised platform of an index entry, or undefined when it has none. */
export function entryPlatform(p: Platform | undefined): MeshcheckPlatform | undefined {
  if (!p) return undefined;
  const architecture = normalizeArch(p.architecture);
  let variant = p.variant?.toLowerCase() || undefined;
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (architecture === 'arm' && !variant) variant = 'v7';
  return { os: p.os.toLowerCase(), architecture, ...(variant ? { variant } : {}) };
}

/** Variants a node of this platform accepts, best first. */
function acceptedVariants(want: MeshcheckPlatform): Array<string | undefined> {
  if (want.architecture === 'arm') {
    const order = ['v8', 'v7', 'v6', 'v5'];
    const from = order.indexOf(want.variant ?? 'v7');
    return from === -1 ? [want.variant] : order.slice(from);
  }
  if (want.architecture === 'arm64') {
    // An arm64/v9 node still runs v8 (no variant) images; a v8 node does not run v9-only images.
    return want.variant && want.variant !== 'v8' ? [want.variant, undefined] : [undefined];
  }
  return [want.variant];
}

export interface MatchResult {
  entry?: IndexEntry;
  /** Image platforms the index offers (attestations excluded), for the "missing-platform" reason. */
  available: string[];
  /** How many attestation entries were ignored. */
  attestations: number;
}

export function matchPlatform(entries: readonly IndexEntry[], want: MeshcheckPlatform): MatchResult {
  const images = entries.filter((e) => !isAttestation(e));
  const available = images.map((e) => {
    const p = entryPlatform(e.platform);
    return p ? `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}` : 'unspecified';
  });
  const attestations = entries.length - images.length;
  for (const variant of acceptedVariants(want)) {
    const entry = images.find((e) => {
      const p = entryPlatform(e.platform);
      return p && p.os === want.os && p.architecture === want.architecture && p.variant === variant;
    });
    if (entry) return { entry, available, attestations };
  }
  return { available, attestations };
}
