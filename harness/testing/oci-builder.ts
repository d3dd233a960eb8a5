/**
 * Test infrastructure: build real OCI and Docker v2 images in memory and push them to a registry through the
 * distribution API. The image-audit tests need images with exact contents (a wrong-arch binary, a whiteout, a
 * zstd layer, an attestation entry) that no Dockerfile build on this machine could make: nothing can be pulled
 * here, and Docker 20.10 writes neither zstd layers nor attestations.
 *
 * Layers are deterministic (mtime 0, uid/gid 0), so pushing the same spec twice yields the same digests and the
 * second push only HEADs the blobs.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { request } from 'undici';

export interface FileSpec {
  /** Path inside the image; a leading slash is dropped (tar entries are relative). */
  path: string;
  content?: string | Uint8Array;
  /** Take the content (and, unless `mode` is given, the permission bits) from this file on the host. */
  hostFile?: string;
  mode?: number;
  /** A symbolic link to this target. */
  symlink?: string;
  /** A hard link to this earlier entry of the same layer. */
  hardlink?: string;
  dir?: boolean;
  /** Writes the OCI whiteout entry `.wh.<basename>` for `path`: the file is deleted from lower layers. */
  whiteout?: boolean;
  /** Writes `<path>/.wh..wh..opq`: the directory hides everything lower layers put in it. */
  opaque?: boolean;
}

export type Compression = 'gzip' | 'zstd' | 'none';
export type ImageFormat = 'oci' | 'docker';

export interface LayerSpec {
  files: FileSpec[];
  /** Default gzip. Docker format supports gzip only. */
  compression?: Compression;
}

export interface ImageSpec {
  /** Default oci. */
  format?: ImageFormat;
  /** Default linux. */
  os?: string;
  architecture: string;
  variant?: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  layers: LayerSpec[];
}

export interface Pushed {
  digest: string;
  size: number;
  mediaType: string;
}

export interface IndexEntry extends Pushed {
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface PushOptions {
  /** Sent with every request, e.g. `{ authorization: 'Bearer …' }` for a token-auth registry. */
  headers?: Record<string, string>;
}

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  inToto: 'application/vnd.in-toto+json',
} as const;

/** A registry answered something other than what the push needed. `status` is there for tests to assert on. */
export class RegistryResponseError extends Error {
  override name = 'RegistryResponseError';
  readonly status: number;
  readonly body: string;
  constructor(what: string, method: string, url: string, status: number, body: string) {
    super(`${what}: ${method} ${url} answered ${status}${body ? `: ${body.slice(0, 300)}` : ''}`);
    this.status = status;
    this.body = body;
  }
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

const gzip = promisify(zlib.gzip);
const zstd = promisify(zlib.zstdCompress);

// Fixed timestamps keep layers byte-for-byte reproducible.
const EPOCH = new Date(0);

function entryName(p: string): string {
  const name = path.posix.normalize(p).replace(/^\/+/, '');
  if (!name || name === '.' || name.startsWith('../')) throw new Error(`oci-builder: bad path in layer: ${JSON.stringify(p)}`);
  return name;
}

type TarHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;

async function entryFor(file: FileSpec): Promise<{ header: TarHeader; data?: Buffer }> {
  const kinds = (['content', 'hostFile', 'symlink', 'hardlink', 'dir', 'whiteout', 'opaque'] as const).filter(
    (k) => file[k] !== undefined && file[k] !== false,
  );
  if (kinds.length > 1) throw new Error(`oci-builder: ${file.path} sets ${kinds.join(' and ')}; a file is exactly one kind`);
  const name = entryName(file.path);
  const base = { uid: 0, gid: 0, mtime: EPOCH };
  if (file.dir) return { header: { ...base, name, type: 'directory', mode: file.mode ?? 0o755 } };
  if (file.symlink !== undefined) return { header: { ...base, name, type: 'symlink', linkname: file.symlink, mode: file.mode ?? 0o777 } };
  if (file.hardlink !== undefined) {
    return { header: { ...base, name, type: 'link', linkname: entryName(file.hardlink), mode: file.mode ?? 0o644 } };
  }
  if (file.whiteout) {
    const wh = path.posix.join(path.posix.dirname(name), `.wh.${path.posix.basename(name)}`);
    return { header: { ...base, name: wh, type: 'file', mode: 0o644 }, data: Buffer.alloc(0) };
  }
  if (file.opaque) return { header: { ...base, name: `${name}/.wh..wh..opq`, type: 'file', mode: 0o644 }, data: Buffer.alloc(0) };
  if (file.hostFile !== undefined) {
    const [data, st] = await Promise.all([readFile(file.hostFile), stat(file.hostFile)]);
    return { header: { ...base, name, type: 'file', mode: file.mode ?? st.mode & 0o7777 }, data };
  }
  const data = typeof file.content === 'string' ? Buffer.from(file.content) : Buffer.from(file.content ?? new Uint8Array());
  return { header: { ...base, name, type: 'file', mode: file.mode ?? 0o644 }, data };
}

/** The uncompressed tar of one layer, entries in the order given. */
export async function buildTar(files: FileSpec[]): Promise<Buffer> {
  const pack = tar.pack();
  // Consume while writing, so a large layer never waits on a full stream buffer.
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  try {
    for (const file of files) {
      const { header, data } = await entryFor(file);
      await new Promise<void>((resolve, reject) => {
        const cb = (err?: Error | null) => (err ? reject(err) : resolve());
        if (data) pack.entry({ ...header, size: data.length }, data, cb);
        else pack.entry(header, cb);
      });
    }
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await collected.catch(() => undefined);
    throw err;
  }
  return collected;
}

export interface BuiltLayer {
  blob: Buffer;
  /** Digest of the compressed blob (what the manifest names). */
  digest: string;
  /** Digest of the uncompressed tar (what the config's rootfs.diff_ids names). */
  diffId: string;
  mediaType: string;
}

function layerMediaType(format: ImageFormat, compression: Compression): string {
  if (format === 'docker') {
    if (compression !== 'gzip') {
      throw new Error(`oci-builder: the Docker v2 image format supports gzip layers only, not ${compression}; use format 'oci'`);
    }
    return MEDIA_TYPES.dockerLayerGzip;
  }
  return { gzip: MEDIA_TYPES.ociLayerGzip, zstd: MEDIA_TYPES.ociLayerZstd, none: MEDIA_TYPES.ociLayer }[compression];
}

export async function buildLayer(layer: LayerSpec, format: ImageFormat = 'oci'): Promise<BuiltLayer> {
  const compression = layer.compression ?? 'gzip';
  const mediaType = layerMediaType(format, compression);
  const tarball = await buildTar(layer.files);
  const blob = compression === 'gzip' ? await gzip(tarball) : compression === 'zstd' ? await zstd(tarball) : tarball;
  return { blob, digest: sha256(blob), diffId: sha256(tarball), mediaType };
}

// ---- the distribution API ----

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

async function call(
  what: string,
  method: 'GET' | 'HEAD' | 'POST' | 'PUT',
  url: string,
  expected: number[],
  opts: PushOptions,
  extra: { headers?: Record<string, string>; body?: Uint8Array } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  let res;
  try {
    res = await request(url, { method, headers: { ...opts.headers, ...extra.headers }, body: extra.body ?? null });
  } catch (err) {
    throw new Error(`${what}: ${method} ${url} failed: ${(err as Error).message}`, { cause: err });
  }
  if (!expected.includes(res.statusCode)) {
    const body = method === 'HEAD' ? '' : await res.body.text().catch(() => '');
    throw new RegistryResponseError(what, method, url, res.statusCode, body);
  }
  // Drain so the connection goes back to the pool.
  await res.body.dump();
  return { status: res.statusCode, headers: res.headers };
}

function base(registry: string, repository: string): string {
  return `http://${registry}/v2/${repository}`;
}

/** Monolithic upload: HEAD (skip when present), POST to open an upload, PUT the bytes with the digest. */
export async function pushBlob(registry: string, repository: string, data: Uint8Array, mediaType: string, opts: PushOptions = {}): Promise<Pushed> {
  const digest = sha256(data);
  const pushed = { digest, size: data.length, mediaType };
  const blobUrl = `${base(registry, repository)}/blobs/${digest}`;
  const head = await call(`checking blob ${digest} in ${repository}`, 'HEAD', blobUrl, [200, 404], opts);
  if (head.status === 200) return pushed;
  const started = await call(`starting an upload to ${repository}`, 'POST', `${base(registry, repository)}/blobs/uploads/`, [202], opts);
  const location = headerValue(started.headers.location);
  if (!location) throw new Error(`starting an upload to ${repository}: the registry answered 202 without a Location header`);
  // The Location may be relative and usually already carries a query (_state=…).
  const put = new URL(location, `http://${registry}/`);
  put.searchParams.set('digest', digest);
  await call(`uploading blob ${digest} to ${repository}`, 'PUT', put.toString(), [201], opts, {
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    body: data,
  });
  return pushed;
}

/** PUT a manifest exactly as given (for malformed or unusual manifests too) under a tag or digest. */
export async function pushRawManifest(
  registry: string,
  repository: string,
  ref: string,
  mediaType: string,
  body: string | Uint8Array,
  opts: PushOptions = {},
): Promise<Pushed> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const digest = sha256(bytes);
  const url = `${base(registry, repository)}/manifests/${ref}`;
  const res = await call(`pushing manifest ${repository}:${ref}`, 'PUT', url, [201], opts, {
    headers: { 'content-type': mediaType },
    body: bytes,
  });
  const served = headerValue(res.headers['docker-content-digest']);
  if (served && served !== digest) {
    throw new Error(`pushing manifest ${repository}:${ref}: the registry stored it as ${served}, but its bytes hash to ${digest}`);
  }
  return { digest, size: bytes.length, mediaType };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export async function pushImage(
  registry: string,
  repository: string,
  tag: string | undefined,
  spec: ImageSpec,
  opts: PushOptions = {},
): Promise<Pushed & { layers: Pushed[]; config: Pushed }> {
  const format = spec.format ?? 'oci';
  const layers = await Promise.all(spec.layers.map((l) => buildLayer(l, format)));
  const imageConfig: Record<string, unknown> = {};
  if (spec.entrypoint) imageConfig.Entrypoint = spec.entrypoint;
  if (spec.cmd) imageConfig.Cmd = spec.cmd;
  if (spec.env) imageConfig.Env = spec.env;
  const config = json({
    created: EPOCH.toISOString(),
    architecture: spec.architecture,
    os: spec.os ?? 'linux',
    ...(spec.variant ? { variant: spec.variant } : {}),
    config: imageConfig,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created: EPOCH.toISOString(), created_by: 'meshcheck oci-builder' })),
  });
  const configType = format === 'oci' ? MEDIA_TYPES.ociConfig : MEDIA_TYPES.dockerConfig;
  const pushedLayers: Pushed[] = [];
  for (const l of layers) pushedLayers.push(await pushBlob(registry, repository, l.blob, l.mediaType, opts));
  const pushedConfig = await pushBlob(registry, repository, config, configType, opts);
  const manifestType = format === 'oci' ? MEDIA_TYPES.ociManifest : MEDIA_TYPES.dockerManifest;
  const manifest = json({ schemaVersion: 2, mediaType: manifestType, config: pushedConfig, layers: pushedLayers });
  // Without a tag the manifest is stored by digest only (as an index's children are).
  const pushed = await pushRawManifest(registry, repository, tag ?? sha256(manifest), manifestType, manifest, opts);
  return { ...pushed, layers: pushedLayers, config: pushedConfig };
}

export async function pushIndex(
  registry: string,
  repository: string,
  tag: string,
  entries: IndexEntry[],
  format: ImageFormat = 'oci',
  opts: PushOptions = {},
): Promise<Pushed> {
  const mediaType = format === 'oci' ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.dockerManifestList;
  const manifests = entries.map((e) => ({
    mediaType: e.mediaType,
    digest: e.digest,
    size: e.size,
    ...(e.platform ? { platform: e.platform } : {}),
    ...(e.annotations ? { annotations: e.annotations } : {}),
  }));
  return pushRawManifest(registry, repository, tag, mediaType, json({ schemaVersion: 2, mediaType, manifests }), opts);
}

/**
 * A BuildKit-style attestation manifest for `subject`: an OCI image manifest whose one layer is an in-toto
 * statement, returned as the index entry BuildKit writes for it (platform unknown/unknown and the
 * vnd.docker.reference.* annotations). Clients must skip it when choosing a platform.
 */
export async function pushAttestationManifest(registry: string, repository: string, subject: Pushed, opts: PushOptions = {}): Promise<IndexEntry> {
  const predicateType = 'https://slsa.dev/provenance/v0.2';
  const statement = json({
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType,
    subject: [{ name: `pkg:docker/${repository}`, digest: { sha256: subject.digest.replace(/^sha256:/, '') } }],
    predicate: { builder: { id: 'meshcheck oci-builder' } },
  });
  const layer = await pushBlob(registry, repository, statement, MEDIA_TYPES.inToto, opts);
  const config = await pushBlob(
    registry,
    repository,
    json({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } }),
    MEDIA_TYPES.ociConfig,
    opts,
  );
  const manifest = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config,
    layers: [{ ...layer, annotations: { 'in-toto.io/predicate-type': predicateType } }],
  });
  const pushed = await pushRawManifest(registry, repository, sha256(manifest), MEDIA_TYPES.ociManifest, manifest, opts);
  return {
    ...pushed,
    platform: { os: 'unknown', architecture: 'unknown' },
    annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': subject.digest },
  };
}
