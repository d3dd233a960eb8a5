/**
 * Audit one image for a set of platforms: resolve the tag, pick each platform's entry as containerd would, compare
 * the config with the index, and (deep) read the entrypoint binary out of the layers — top layer first, stopping
 * as soon as the path is decided — to see which machine it is really for.
 */
import path from 'node:path';
import { type ElfInfo, bufferSource, readElf } from '../arch/elf.ts';
import { identify, type FileKind } from '../arch/executable.ts';
import { formatPlatform, type Platform } from '../arch/platform.ts';
import { RegistryError, type RegistryClient } from '../registry/client.ts';
import { scanLayer } from '../registry/layers.ts';
import { type ImageConfig, type ImageManifest, parseConfig } from '../registry/manifest.ts';
import { type LayerIndex, resolvePath } from '../registry/overlay.ts';
import { entryPlatform, matchPlatform } from '../registry/platform-match.ts';
import { type ImageReference, manifestReference } from '../registry/reference.ts';
import { type AuditVerdict, binaryFindings, configFinding, type Finding, primary } from './verdicts.ts';

export interface EntrypointReport {
  argv: string[];
  /** The path the kernel would exec, after PATH lookup and symlinks. */
  resolved?: string;
  /** Each file exec'd on the way: a script, then its interpreter, … */
  chain: Array<{ path: string; kind: FileKind['kind']; arch?: string; machine?: string; interpreter?: string }>;
  elf?: Pick<ElfInfo, 'arch' | 'machine' | 'linkage' | 'interpreter' | 'loadAlign'>;
  problem?: string;
}

export interface DeepStats {
  layersRead: number;
  layersTotal: number;
  bytesRead: number;
  bytesTotal: number;
}

export interface PlatformAudit {
  platform: string;
  verdict: AuditVerdict;
  reason: string;
  findings: Finding[];
  /** The single-platform manifest a node of this platform pulls. */
  manifestDigest?: string;
  config?: { os: string; architecture: string; variant?: string };
  entrypoint?: EntrypointReport;
  deep?: DeepStats;
}

export interface ImageAudit {
  image: string;
  canonical: string;
  /** What the tag resolved to (an index or a single manifest). */
  digest?: string;
  mediaType?: string;
  kind?: 'index' | 'manifest';
  /** Image platforms the index offers (attestations excluded). */
  available?: string[];
  attestationsIgnored?: number;
  platforms: PlatformAudit[];
}

export interface AuditOptions {
  platforms: Platform[];
  deep: boolean;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function failAll(image: string, canonical: string, platforms: Platform[], err: unknown): ImageAudit {
  const { verdict, reason } = errorFinding(err);
  return { image, canonical, platforms: platforms.map((p) => ({ platform: formatPlatform(p), verdict, reason, findings: [{ verdict, reason }] })) };
}

/** Registry failures map onto the two "could not check" verdicts. */
export function errorFinding(err: unknown): Finding {
  if (err instanceof RegistryError) return { verdict: err.kind === 'not-found' ? 'not-found' : 'unreachable', reason: err.message };
  return { verdict: 'unreachable', reason: (err as Error)?.message ?? String(err) };
}

export async function auditImage(client: RegistryClient, image: string, ref: ImageReference, opts: AuditOptions): Promise<ImageAudit> {
  let top;
  try {
    top = await client.getManifest(ref, manifestReference(ref));
  } catch (err) {
    return failAll(image, ref.canonical, opts.platforms, err);
  }
  const audit: ImageAudit = { image, canonical: ref.canonical, digest: top.digest, mediaType: top.mediaType, kind: top.manifest.kind, platforms: [] };
  if (top.manifest.kind === 'index') {
    const entries = top.manifest.manifests;
    for (const want of opts.platforms) {
      const m = matchPlatform(entries, want);
      // What the index offers does not depend on the platform asked for.
      audit.available ??= m.available;
      audit.attestationsIgnored ??= m.attestations;
      if (!m.entry) {
        const reason = `the index has no ${formatPlatform(want)} entry (it has: ${m.available.join(', ') || 'none'})`;
        audit.platforms.push({ platform: formatPlatform(want), verdict: 'missing-platform', reason, findings: [{ verdict: 'missing-platform', reason }] });
        continue;
      }
      const entryWant = entryPlatform(m.entry.platform) ?? want;
      audit.platforms.push(await auditPlatformManifest(client, ref, want, entryWant, m.entry.digest, opts.deep));
    }
    return audit;
  }
  // A single manifest: one platform, stated only by its config.
  for (const want of opts.platforms) {
    audit.platforms.push(await auditPlatformManifest(client, ref, want, want, top.digest, opts.deep, top.manifest));
  }
  return audit;
}

async function auditPlatformManifest(
  client: RegistryClient,
  ref: ImageReference,
  want: Platform,
  listedAs: Platform,
  digest: string,
  deep: boolean,
  preloaded?: ImageManifest,
): Promise<PlatformAudit> {
  const result: PlatformAudit = { platform: formatPlatform(want), verdict: 'ok', reason: '', findings: [], manifestDigest: digest };
  try {
    const manifest = preloaded ?? (await client.getManifest(ref, digest)).manifest;
    if (manifest.kind !== 'manifest') throw new RegistryError('malformed', `${ref.canonical}: the ${formatPlatform(want)} entry ${digest} is an index, not an image manifest`);
    const config = parseConfig(await client.getBlob(ref, manifest.config.digest));
    result.config = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    if (preloaded) {
      // No index: the image is single-platform, and its config says which.
      const actual = entryPlatform(result.config)!;
      if (actual.os !== want.os || actual.architecture !== want.architecture) {
        const reason = `single-platform image for ${formatPlatform(actual)}; no ${formatPlatform(want)} variant`;
        result.findings.push({ verdict: 'missing-platform', reason });
      }
    } else {
      const f = configFinding(config, listedAs);
      if (f) result.findings.push(f);
    }
    if (deep && !result.findings.some((f) => f.verdict === 'missing-platform')) {
      const { entrypoint, stats, findings } = await inspectEntrypoint(client, ref, manifest, config, want);
      result.entrypoint = entrypoint;
      result.deep = stats;
      result.findings.push(...findings);
    }
  } catch (err) {
    result.findings.push(errorFinding(err));
  }
  const p = primary(result.findings);
  result.verdict = p.verdict;
  result.reason = p.reason;
  return result;
}

/** Lazily scanned layers, top first. */
class Layers {
  readonly indexes: LayerIndex[] = [];
  readonly stats: DeepStats;
  readonly #client: RegistryClient;
  readonly #ref: ImageReference;
  readonly #descriptors: ImageManifest['layers'];
  constructor(client: RegistryClient, ref: ImageReference, manifest: ImageManifest) {
    this.#client = client;
    this.#ref = ref;
    this.#descriptors = [...manifest.layers].reverse();
    this.stats = { layersRead: 0, layersTotal: manifest.layers.length, bytesRead: 0, bytesTotal: manifest.layers.reduce((n, l) => n + l.size, 0) };
  }
  get scanned(): number {
    return this.indexes.length;
  }
  get total(): number {
    return this.#descriptors.length;
  }
  /** Read one more layer (the next one down). False when all are read. */
  async next(): Promise<boolean> {
    const d = this.#descriptors[this.indexes.length];
    if (!d) return false;
    const { stream } = await this.#client.openBlob(this.#ref, d.digest);
    const scan = await scanLayer(stream, d.mediaType);
    this.indexes.push(scan.index);
    this.stats.layersRead++;
    this.stats.bytesRead += scan.bytesRead;
    return true;
  }
  /** Resolve the first of the candidate paths that exists, reading layers only as far as needed. */
  async resolveFirst(candidates: string[]) {
    for (;;) {
      let undecided = false;
      for (const c of candidates) {
        const r = resolvePath(this.indexes, this.scanned, this.total, c);
        if (r.state === 'unknown') {
          undecided = true;
          break; // an earlier PATH entry might still exist in a lower layer
        }
        if (r.state === 'found') return r;
      }
      if (!undecided) return undefined;
      if (!(await this.next())) return undefined;
    }
  }
}

function pathCandidates(name: string, config: ImageConfig, cwd = '/'): string[] {
  if (name.includes('/')) return [path.posix.resolve(cwd, name)];
  const envPath = config.config?.Env?.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  return envPath
    .split(':')
    .filter(Boolean)
    .map((d) => path.posix.join(d, name));
}

async function inspectEntrypoint(client: RegistryClient, ref: ImageReference, manifest: ImageManifest, config: ImageConfig, want: Platform) {
  const argv = [...(config.config?.Entrypoint ?? []), ...(config.config?.Cmd ?? [])];
  const entrypoint: EntrypointReport = { argv, chain: [] };
  const layers = new Layers(client, ref, manifest);
  const findings: Finding[] = [];
  if (!argv[0]) {
    entrypoint.problem = 'the image config has no Entrypoint or Cmd: nothing to check';
    return { entrypoint, stats: layers.stats, findings };
  }
  let name = argv[0];
  const cwd = config.config?.WorkingDir || '/';
  const scripts: string[] = [];
  for (let hop = 0; hop < 5; hop++) {
    const found = await layers.resolveFirst(pathCandidates(name, config, cwd));
    if (!found) {
      entrypoint.problem = `${name} is not in the image${name.includes('/') ? '' : ' (looked along the config’s PATH)'}`;
      break;
    }
    if (hop === 0) entrypoint.resolved = found.path;
    const head = found.entry.head;
    if (!head) {
      entrypoint.problem = `${found.path} is not an executable regular file`;
      break;
    }
    const kind = await identify(bufferSource(head));
    if (kind.kind === 'elf') {
      entrypoint.chain.push({ path: found.path, kind: 'elf', arch: kind.arch, machine: kind.machine, ...(kind.interpreter ? { interpreter: kind.interpreter } : {}) });
      const full = await readElf(bufferSource(head)).catch((err: Error) => err);
      if (full instanceof Error) {
        entrypoint.problem = `${found.path}: ${full.message}`;
        break;
      }
      entrypoint.elf = { arch: full.arch, machine: full.machine, linkage: full.linkage, loadAlign: full.loadAlign, ...(full.interpreter ? { interpreter: full.interpreter } : {}) };
      const via = scripts.length ? `interpreter of ${scripts.join(' → ')}` : undefined;
      findings.push(...binaryFindings(full, found.path, want, via));
      break;
    }
    if (kind.kind === 'script') {
      entrypoint.chain.push({ path: found.path, kind: 'script', interpreter: [kind.interpreter, ...kind.args].join(' ') });
      scripts.push(found.path);
      name = path.posix.basename(kind.interpreter) === 'env' ? (kind.args.find((a) => !a.startsWith('-')) ?? kind.interpreter) : kind.interpreter;
      continue;
    }
    entrypoint.chain.push({ path: found.path, kind: kind.kind });
    entrypoint.problem = `${found.path}: ${kind.reason}`;
    break;
  }
  return { entrypoint, stats: layers.stats, findings };
}
