/**
 * Pin an image to one platform's manifest by digest: `repo@sha256:<that platform's manifest>`. containerd's CRI
 * pulls a single-platform manifest referenced by digest whatever its architecture, while an index or a tag always
 * resolves to the host's platform — so this is how a foreign-arch node image (emulated mode) and foreign-arch mesh
 * images (hybrid mode) get onto a node. Uses the audit's registry client (auth, retries, limits).
 */
import { type Platform, parsePlatform } from '../arch/platform.ts';
import { MeshcheckError } from '../errors.ts';
import type { RegistryClient } from './client.ts';
import { parseConfig } from './manifest.ts';
import { matchPlatform } from './platform-match.ts';
import { formatReference, manifestReference, parseReference } from './reference.ts';

export interface PinnedImage {
  /** The reference as given. */
  image: string;
  platform: string;
  /** registry/repository@sha256:… of the platform's manifest. */
  pinned: string;
  digest: string;
  /** Platforms the image offers (for messages). */
  available: string[];
}

export class MissingPlatformError extends MeshcheckError {
  override name = 'MissingPlatformError';
  readonly available: string[];
  constructor(image: string, platform: string, available: string[]) {
    super(`${image} has no ${platform} image (it offers ${available.join(', ') || 'nothing'})`, {
      category: 'check-failed',
      fix: `use an image that is published for ${platform}, or run a mode that does not need it`,
    });
    this.available = available;
  }
}

function platformText(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

export async function pinToPlatform(client: RegistryClient, image: string, platform: string): Promise<PinnedImage> {
  const ref = parseReference(image);
  const want = parsePlatform(platform);
  const wantText = platformText(want);
  const fetched = await client.getManifest(ref, manifestReference(ref));
  const repo = formatReference({ registry: ref.registry, repository: ref.repository });
  if (fetched.manifest.kind === 'index') {
    const m = matchPlatform(fetched.manifest.manifests, want);
    if (!m.entry) throw new MissingPlatformError(image, wantText, m.available);
    return { image, platform: wantText, pinned: `${repo}@${m.entry.digest}`, digest: m.entry.digest, available: m.available };
  }
  // A single-platform image: its config says which platform it is.
  const have = await configPlatform(client, ref, fetched.manifest.config.digest);
  const haveP = parsePlatform(have);
  if (haveP.os !== want.os || haveP.architecture !== want.architecture) throw new MissingPlatformError(image, wantText, [have]);
  return { image, platform: wantText, pinned: `${repo}@${fetched.digest}`, digest: fetched.digest, available: [have] };
}

/** The platforms an image offers (attestations excluded), as the audit reads them. */
export async function imagePlatforms(client: RegistryClient, image: string): Promise<string[]> {
  const ref = parseReference(image);
  const fetched = await client.getManifest(ref, manifestReference(ref));
  if (fetched.manifest.kind === 'index') return matchPlatform(fetched.manifest.manifests, { os: 'linux', architecture: 'none' }).available;
  return [await configPlatform(client, ref, fetched.manifest.config.digest)];
}

async function configPlatform(client: RegistryClient, ref: ReturnType<typeof parseReference>, digest: string): Promise<string> {
  const config = parseConfig(await client.getBlob(ref, digest));
  return platformText({ os: config.os ?? 'linux', architecture: config.architecture ?? 'unknown', ...(config.variant ? { variant: config.variant } : {}) });
}
