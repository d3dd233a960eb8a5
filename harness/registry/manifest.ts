/**
 * Manifests as the distribution API serves them: OCI image index, Docker manifest list, OCI and Docker image
 * manifests (image-spec: image-index.md, manifest.md; Docker: manifest-v2-2.md). Parsing validates the shape so a
 * malformed manifest is reported as such, naming the field, instead of crashing later.
 */
import { z } from 'zod';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** What the client accepts, most preferred first. Schema 1 is deliberately absent. */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

const descriptor = z.object({
  mediaType: z.string(),
  digest: z.string().regex(/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'not a digest'),
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
  urls: z.array(z.string()).optional(),
});

const platformSchema = z.object({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  features: z.array(z.string()).optional(),
});

const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptor.extend({ platform: platformSchema.optional() })),
  annotations: z.record(z.string(), z.string()).optional(),
});

const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptor,
  layers: z.array(descriptor),
  annotations: z.record(z.string(), z.string()).optional(),
  subject: descriptor.optional(),
});

const configSchema = z.object({
  architecture: z.string(),
  os: z.string(),
  variant: z.string().optional(),
  config: z
    .object({
      Entrypoint: z.array(z.string()).nullish(),
      Cmd: z.array(z.string()).nullish(),
      Env: z.array(z.string()).nullish(),
      WorkingDir: z.string().nullish(),
      User: z.string().nullish(),
    })
    .nullish(),
  rootfs: z.object({ type: z.string(), diff_ids: z.array(z.string()) }).optional(),
});

export type Descriptor = z.infer<typeof descriptor>;
export type Platform = z.infer<typeof platformSchema>;
export type IndexEntry = Descriptor & { platform?: Platform };
export type ImageIndex = z.infer<typeof indexSchema> & { kind: 'index' };
export type ImageManifest = z.infer<typeof imageManifestSchema> & { kind: 'manifest' };
export type ImageConfig = z.infer<typeof configSchema>;

export class ManifestError extends Error {
  override name = 'ManifestError';
}

function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new ManifestError(`malformed ${what}: not JSON (${(err as Error).message})`);
  }
}

/** Parse a manifest body; the media type comes from the Content-Type header or, failing that, the body. */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ImageIndex | ImageManifest {
  const json = parseJson(bytes, 'manifest') as { mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown; config?: unknown };
  const type = (contentType?.split(';')[0]?.trim() || (typeof json?.mediaType === 'string' ? json.mediaType : '')) as string;
  if (type === MEDIA.dockerSchema1 || type === MEDIA.dockerSchema1Signed || json?.schemaVersion === 1) {
    throw new ManifestError('Docker schema 1 manifest: deprecated and unsupported (no platform data); push the image again with a current Docker or buildx');
  }
  const isIndex = type === MEDIA.ociIndex || type === MEDIA.dockerList || (!type.includes('manifest.v') && Array.isArray(json?.manifests));
  if (isIndex) {
    const r = indexSchema.safeParse(json);
    if (!r.success) throw new ManifestError(`malformed image index: ${describeIssues(r.error)}`);
    return { ...r.data, kind: 'index' };
  }
  const r = imageManifestSchema.safeParse(json);
  if (!r.success) throw new ManifestError(`malformed image manifest: ${describeIssues(r.error)}`);
  return { ...r.data, kind: 'manifest' };
}

export function parseConfig(bytes: Uint8Array): ImageConfig {
  const r = configSchema.safeParse(parseJson(bytes, 'image config'));
  if (!r.success) throw new ManifestError(`malformed image config: ${describeIssues(r.error)}`);
  return r.data;
}
