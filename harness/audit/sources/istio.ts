/**
 * The images an Istio version deploys, so the audit can check each one has an arm64 build that really is arm64.
 *
 * Two ways, with the same answer for a release:
 *  - by convention (pure): the names and the `${hub}/${name}:${tag}[-${variant}]` rule of Istio's own charts;
 *  - with istioctl: `istioctl manifest generate` renders the real manifests, which are read like any other YAML.
 *
 * Facts are cited from istio/istio at tag 1.30.3 (commit 56df41f63e513f834c9a3af33d8aed82d1d961f2) unless another
 * tag is named; line numbers are that tag's. On master (86c9f01f, 2026-08-22) the image lines of the four charts are
 * unchanged and the profiles identical; other cited lines have moved. "chart" below means manifests/charts/.
 *
 * Which images:
 *  - pilot: istiod. chart istio-control/istio-discovery/templates/deployment.yaml:5-8 (Deployment `istiod` in the
 *    release namespace, istio-system under istioctl), :97 (container `discovery`), :101 (image
 *    `{hub}/{image | default "pilot"}:{tag}{-variant}`); values.yaml:17 (`image: pilot`).
 *  - proxyv2: the Envoy proxy. Used by
 *    · the sidecar and its init container, which the injector adds to application pods at admission time. The
 *      image is not a container of any object in the install: it lives as text inside the ConfigMap
 *      `istio-sidecar-injector` (chart istio-discovery/templates/istiod-injector-configmap.yaml:6, :30, :57), in
 *      files/injection-template.yaml:87-91 and :187-192 as `image: "{{ .ProxyImage }}"`. Up to 1.12 it was the
 *      literal Go template `{{ .Values.global.hub }}/{{ .Values.global.proxy.image }}:{{ .Values.global.tag }}`
 *      (tag 1.12.0, injection-template.yaml:172). `.ProxyImage` is built by pkg/kube/inject/inject.go:317-342
 *      (ProxyImage: image name `global.proxy.image`, default "proxyv2"; variant `global.variant`) and :383-407
 *      (imageURL: `hub + "/" + name + ":" + tag`, then `-variant` unless the variant is empty or "default", and a
 *      known variant already at the end of the tag is replaced, not doubled).
 *    · waypoints (ambient), from the same ConfigMap: files/waypoint.yaml:103-106 (`{{ .ProxyImage }}`).
 *    · the ingress gateway of the default profile: chart gateways/istio-ingress/templates/deployment.yaml:4-6
 *      (Deployment named `gateways.istio-ingressgateway.name`, values.yaml:8 `istio-ingressgateway`), :79 (container
 *      `istio-proxy`), :83 (image). Enabled by manifests/profiles/default.yaml:16-18, disabled by
 *      manifests/profiles/ambient.yaml:9-11.
 *    values.yaml:333-334 (`global.proxy.image: proxyv2`) and :414-416 (`global.proxy_init.image: proxyv2`).
 *  - install-cni (ambient): chart istio-cni/templates/daemonset.yaml:15 and :22 (DaemonSet `istio-cni-node`, the
 *    "name" template of _helpers.tpl:1-3 plus "-node"), :92 (container `install-cni`), :96 (image, with the
 *    "istio-tag" template of _helpers.tpl:6-8 adding `-variant`); values.yaml:7 (`image: install-cni`).
 *  - ztunnel (ambient): chart ztunnel/templates/daemonset.yaml:3-5 (DaemonSet named by _helpers.tpl:1, default
 *    `ztunnel`), :64 (container `istio-proxy`), :68 (image `{hub}/{image | default "ztunnel"}:{tag}{-variant}`); its
 *    own hub/tag/variant are the globals, flattened by templates/zzz_profile.yaml:51-54; values.yaml:13.
 *  - manifests/profiles/ambient.yaml:4-8 enables the cni and ztunnel components and :13 sets `profile: ambient`,
 *    which makes every chart load files/profile-ambient.yaml (templates/zzz_profile.yaml:27-29). That file
 *    (manifests/helm-profiles/ambient.yaml:13-14, copied to e.g. istio-discovery/files/profile-ambient.yaml:17-18)
 *    sets `global.variant: distroless`, so ambient images are `…:<tag>-distroless` (since 1.22.0). istioctl's own
 *    golden output shows it: operator/cmd/mesh/testdata/manifest-generate/output/ztunnel.golden.yaml:81
 *    (`registry.istio.io/testing/ztunnel:latest-distroless` for input/ztunnel.yaml, `profile: ambient`).
 *  Not listed, because a default or ambient install does not run them: agentgateway (injector ConfigMap, for
 *  Gateway API gateways of that class) and busybox:1.28 (the opt-in `grpc-simple` injection template).
 *
 * hub, tag and variant:
 *  - `--set hub=X` and `--set tag=Y` of istioctl become values.global.hub and values.global.tag
 *    (operator/pkg/render/manifest.go:349-356). Without them istioctl uses the hub and tag compiled into it
 *    (:238-246, :312-315); the chart defaults are dev ones (istio-discovery/values.yaml:255-260,
 *    `registry.istio.io/testing` and `latest`). Releases are on Docker Hub under `istio` (values.yaml:256), hence
 *    the default hub `docker.io/istio` here.
 *  - variant: values.yaml:261-263, "Currently supported are: [debug, distroless]"; the default profile leaves it
 *    empty (no suffix).
 *  - `--set` turns values that look like numbers into numbers (operator/pkg/values/map.go:436-447), so a tag of
 *    `1.30` would reach the charts as the float 1.3. Versions without a patch number are therefore refused unless
 *    they carry a suffix (dev builds: `1.29-alpha.<40-hex sha>`, as in operator/pkg/version/version_test.go:218).
 *  - istioctl itself checks the hub with go-containerregistry's name.NewRepository(hub + "/pilot")
 *    (operator/pkg/apis/validation/validation.go:388-398); validHub below follows the same reference grammar.
 */
import { parseAllDocuments } from 'yaml';
import { InfrastructureError, UsageError } from '../../errors.ts';
import { describeFailure, runCommand } from '../../process/run.ts';
import { TOOLS } from '../../process/tools.ts';
import { imagesFromKubeYaml } from './kube-yaml.ts';
import type { ImageSet, ImageUse, SourceProblem } from './types.ts';

export const DEFAULT_ISTIO_HUB = 'docker.io/istio';

/** The image variants Istio publishes (chart values.yaml:262; pkg/kube/inject/inject.go:94-98). */
export const ISTIO_VARIANTS = ['distroless', 'debug'] as const;
export type IstioVariant = (typeof ISTIO_VARIANTS)[number];

export interface IstioImageOptions {
  /** The Istio version, used as the image tag: 1.28.0, 1.28.0-beta.1, or a dev tag such as 1.29-alpha.<sha>. */
  version: string;
  /** Registry and repository path the images are under, without a tag. Default docker.io/istio. */
  hub?: string;
  /** The ambient profile (ztunnel and istio-cni added, ingress gateway dropped, distroless images). */
  ambient?: boolean;
  /**
   * Image variant. Unset means the profile's choice: none for the default profile, distroless for ambient
   * (files/profile-ambient.yaml:17-18). Passed to istioctl as values.global.variant.
   */
  variant?: IstioVariant;
  /** Path to istioctl; when given it is used and its rendered manifests are the answer. */
  istioctl?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Options after validation: what both ways need. */
interface Resolved {
  version: string;
  hub: string;
  ambient: boolean;
  /** '' when no suffix. */
  variant: string;
  profile: 'default' | 'ambient';
}

const MAX_TAG_LENGTH = 128; // distribution/reference: tags are at most 128 characters
const MAX_NAME_LENGTH = 255; // distribution/reference: the repository name is at most 255 characters
const SEMVERISH = /^(0|[1-9]\d*)\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:-([0-9A-Za-z]+(?:[.-][0-9A-Za-z]+)*))?$/;
const VERSION_EXAMPLES = 'such as 1.28.0, 1.28.0-beta.1 or a dev build tag like 1.29-alpha.<commit sha>';

/** Check --istio; returns it unchanged. Throws UsageError naming the flag. */
export function validIstioVersion(version: string): string {
  const bad = (why: string, fix: string) => new UsageError(`--istio ${JSON.stringify(version)} is not an Istio version: ${why}`, fix);
  if (version.trim() === '') throw bad('it is empty', `give the Istio version to audit, ${VERSION_EXAMPLES}`);
  if (/^v\d/.test(version)) throw bad('Istio image tags have no "v"', `use --istio ${version.slice(1)}`);
  const m = SEMVERISH.exec(version);
  if (!m) throw bad('it is not of the form MAJOR.MINOR.PATCH[-SUFFIX]', `give a version ${VERSION_EXAMPLES}`);
  const [, , , patch, suffix] = m;
  if (patch === undefined && suffix === undefined) {
    throw bad(
      'a release version needs its patch number (and istioctl would read a bare 1.30 as the number 1.3)',
      `give the full release, such as ${version}.0`,
    );
  }
  // The charts append the variant to the tag; a variant inside the version would come out doubled (-distroless-distroless).
  const variant = ISTIO_VARIANTS.find((v) => suffix === v || suffix?.endsWith(`-${v}`));
  if (variant) {
    throw bad(
      `it ends in the image variant "-${variant}", which is not part of the version`,
      `give the plain version (${version.slice(0, -(variant.length + 1))}); the variant comes from the profile (distroless with ambient) or the variant option`,
    );
  }
  if (version.length + '-distroless'.length > MAX_TAG_LENGTH) {
    throw bad(`it is too long for an image tag (at most ${MAX_TAG_LENGTH} characters with the variant)`, `give a version ${VERSION_EXAMPLES}`);
  }
  return version;
}

// The reference grammar of distribution/reference (regexp.go), which go-containerregistry follows too.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9A-Fa-f:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** Check --hub; returns it unchanged. Throws UsageError naming the flag. */
export function validHub(hub: string): string {
  const bad = (why: string, fix: string) => new UsageError(`--hub ${JSON.stringify(hub)} is not an image hub: ${why}`, fix);
  const example = `a registry and repository path such as ${DEFAULT_ISTIO_HUB}, gcr.io/istio-release or localhost:5000/istio`;
  if (hub === '') throw bad('it is empty', `leave --hub out for ${DEFAULT_ISTIO_HUB}, or give ${example}`);
  if (/\s/.test(hub)) throw bad('it contains whitespace', `give ${example}`);
  if (hub.includes('://')) throw bad('image references have no URL scheme', `use --hub ${hub.slice(hub.indexOf('://') + 3).replace(/\/+$/, '')}`);
  if (hub.includes('@')) throw bad('a hub has no digest; each image gets its own', `give only ${example}`);
  if (hub.endsWith('/')) throw bad('it ends in "/"', `use --hub ${hub.replace(/\/+$/, '')}`);
  const parts = hub.split('/');
  const first = parts[0]!;
  // As Docker decides: the first part names a registry if it has a dot or a port, or is localhost. A hub may be a
  // registry alone (localhost:5000): the images then sit at its root, which is a valid reference.
  const hasDomain = first.includes('.') || first.includes(':') || first === 'localhost';
  // Alone, "name:1.28" is a tag and "host:5000" a port (an IPv6 host in brackets has colons of its own).
  if (parts.length === 1 && !first.startsWith('[') && /:(?![0-9]+$)/.test(first)) {
    throw bad('it has a tag; the tag comes from --istio', `use --hub ${first.slice(0, first.lastIndexOf(':'))}`);
  }
  if (hasDomain && !DOMAIN.test(first)) throw bad(`"${first}" is not a registry host[:port]`, `give ${example}`);
  const path = hasDomain ? parts.slice(1) : parts;
  const last = path.at(-1);
  if (last?.includes(':')) throw bad('it has a tag; the tag comes from --istio', `use --hub ${hub.slice(0, hub.lastIndexOf(':'))}`);
  for (const p of path) {
    if (!PATH_COMPONENT.test(p)) {
      const lower = p.toLowerCase();
      throw bad(
        `"${p}" is not a valid repository path component (lowercase letters and digits, with single ".", "_", "__" or dashes between them)`,
        lower !== p && PATH_COMPONENT.test(lower) ? `use --hub ${hub.replace(p, lower)}` : `give ${example}`,
      );
    }
  }
  if (`${hub}/install-cni`.length > MAX_NAME_LENGTH) {
    throw bad(`image names under it would be longer than ${MAX_NAME_LENGTH} characters`, `give ${example}`);
  }
  return hub;
}

function resolve(o: IstioImageOptions): Resolved {
  const version = validIstioVersion(o.version);
  const hub = validHub(o.hub ?? DEFAULT_ISTIO_HUB);
  const ambient = o.ambient ?? false;
  if (o.variant !== undefined && !(ISTIO_VARIANTS as readonly string[]).includes(o.variant)) {
    throw new UsageError(`variant ${JSON.stringify(o.variant)} is not an Istio image variant`, `use one of ${ISTIO_VARIANTS.join(', ')}, or none`);
  }
  const variant = o.variant ?? (ambient ? 'distroless' : '');
  return { version, hub, ambient, variant, profile: ambient ? 'ambient' : 'default' };
}

/** `${hub}/${name}:${tag}` plus `-${variant}`, the rule of every chart cited above. */
export function istioImage(hub: string, name: string, tag: string, variant = ''): string {
  return `${hub}/${name}:${tag}${variant ? `-${variant}` : ''}`;
}

/**
 * The images a default or ambient install of this Istio version runs, from the naming convention alone.
 * proxyv2 is always listed: even when no Deployment of the install runs it (ambient has no ingress gateway), the
 * injector puts it into every sidecar and waypoint, and that image exists only as text in the injector ConfigMap.
 */
export function istioImagesByConvention(o: IstioImageOptions): ImageSet {
  const r = resolve(o);
  const from = (where: string) => `Istio ${r.version} (${r.profile} profile, by convention): ${where}`;
  const img = (name: string) => istioImage(r.hub, name, r.version, r.variant);
  const images: ImageUse[] = [{ image: img('pilot'), from: from('Deployment istio-system/istiod, container discovery') }];
  if (r.ambient) {
    images.push(
      { image: img('install-cni'), from: from('DaemonSet istio-system/istio-cni-node, container install-cni') },
      { image: img('ztunnel'), from: from('DaemonSet istio-system/ztunnel, container istio-proxy') },
    );
  } else {
    images.push({ image: img('proxyv2'), from: from('Deployment istio-system/istio-ingressgateway, container istio-proxy') });
  }
  images.push({ image: img('proxyv2'), from: from(`ConfigMap istio-system/istio-sidecar-injector, ${injected(r.ambient)}`) });
  return { images, problems: [] };
}

/** Where the injector puts proxyv2 (injection-template.yaml:80-91 and :187-192; waypoint.yaml:103-106). */
function injected(ambient: boolean): string {
  return `injected into ${ambient ? 'sidecars and waypoints' : 'sidecars'} (containers istio-init or istio-validation, and istio-proxy)`;
}

/** The `from` prefix of images read from istioctl's output. */
export function istioctlOrigin(o: Pick<IstioImageOptions, 'version' | 'ambient'>): string {
  return `istioctl manifest generate (Istio ${o.version}${o.ambient ? ', ambient profile' : ''})`;
}

/** The arguments meshcheck passes to istioctl. */
export function istioctlArgs(o: IstioImageOptions): string[] {
  const r = resolve(o);
  const args = ['manifest', 'generate', '--set', `hub=${r.hub}`, '--set', `tag=${r.version}`];
  if (r.ambient) args.push('--set', 'profile=ambient');
  // Only an explicit choice is passed: otherwise the profile decides, exactly as a user's own istioctl install would.
  if (o.variant) args.push('--set', `values.global.variant=${o.variant}`);
  return args;
}

/**
 * Pure half of the istioctl way: the images in `istioctl manifest generate` output.
 *
 * The workloads (istiod, gateways, ztunnel, istio-cni) are read as YAML. proxyv2 for sidecars and waypoints is not a
 * container there: it is text in the istio-sidecar-injector ConfigMap, either `{{ .ProxyImage }}` (1.13 and later)
 * or the literal Go template `{{ .Values.global.hub }}/{{ .Values.global.proxy.image }}:{{ .Values.global.tag }}`
 * (up to 1.12), which the YAML reader rightly never takes for an image. So it is computed the way the injector
 * computes it (inject.go:317-342, :383-407) from the `values` JSON the same ConfigMap carries
 * (istiod-injector-configmap.yaml:17-23), and, when that ConfigMap or its values are missing, added by convention.
 */
export function istioImagesFromManifest(text: string, o: IstioImageOptions): ImageSet {
  const r = resolve(o);
  const origin = istioctlOrigin(r);
  const set = imagesFromKubeYaml(text, origin);
  const problems: SourceProblem[] = [...set.problems];
  const images: ImageUse[] = [...set.images];

  if (images.length === 0) {
    problems.push({
      from: origin,
      message: 'the output has no workload with an image (no Deployment, DaemonSet or Pod)',
      fix: 'run the same istioctl command by hand and check it prints the install; a profile such as "empty" renders nothing',
    });
  }

  const injector = findInjector(text);
  if (injector.found) {
    const proxy = proxyImageFromValues(injector.values);
    if (proxy.image) {
      images.push({ image: proxy.image, from: `${origin}: ConfigMap ${injector.found}, ${injected(r.ambient)}` });
      return { images, problems };
    }
    problems.push({
      from: `${origin}: ConfigMap ${injector.found}`,
      message: `its data.values ${proxy.why}, so the injected proxy image was taken from the naming convention`,
      fix: 'check that this istioctl renders the istiod chart of the same Istio version',
    });
  }
  images.push({
    image: istioImage(r.hub, 'proxyv2', r.version, r.variant),
    from: `${origin}: ${injector.found ? `ConfigMap ${injector.found}` : 'no istio-sidecar-injector ConfigMap in the output'}, ${injected(r.ambient)} (by convention)`,
  });
  return { images, problems };
}

type InjectorSearch = { found: string; values: unknown } | { found: undefined; values: undefined };

/** The istio-sidecar-injector ConfigMap (a revision appends `-<rev>`, istiod-injector-configmap.yaml:6). */
function findInjector(text: string): InjectorSearch {
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0 || doc.contents === null) continue; // imagesFromKubeYaml already reported it
    let v: unknown;
    try {
      v = doc.toJS();
    } catch {
      continue; // likewise reported already
    }
    if (typeof v !== 'object' || v === null) continue;
    const o = v as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; data?: { values?: unknown } };
    const name = o.metadata?.name;
    if (o.kind !== 'ConfigMap' || typeof name !== 'string' || !/^istio-sidecar-injector(-.+)?$/.test(name)) continue;
    const ns = typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : 'default';
    return { found: `${ns}/${name}`, values: o.data?.values };
  }
  return { found: undefined, values: undefined };
}

/** What pkg/kube/inject/inject.go:317-342 (ProxyImage) and :383-407 (imageURL) make of the injector's values. */
export function proxyImageFromValues(valuesJson: unknown): { image: string; why?: undefined } | { image?: undefined; why: string } {
  if (typeof valuesJson !== 'string') return { why: 'is missing' };
  let values: unknown;
  try {
    values = JSON.parse(valuesJson);
  } catch {
    return { why: 'is not JSON' };
  }
  const global = (values as { global?: Record<string, unknown> } | null)?.global;
  if (typeof global !== 'object' || global === null) return { why: 'has no "global" object' };
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
  const proxy = global.proxy as { image?: unknown } | undefined;
  const name = str(proxy?.image) || 'proxyv2';
  // injection-template.yaml:188-189: a proxy image containing "/" is used as it stands.
  if (name.includes('/')) return { image: name };
  const hub = str(global.hub);
  const tag = str(global.tag);
  if (!hub || !tag) return { why: 'has no global.hub or global.tag' };
  return { image: `${hub}/${name}:${tagWithVariant(tag, str(global.variant))}` };
}

/** inject.go:390-407 updateImageTypeIfPresent: a known variant already ending the tag is replaced; "default" means none. */
function tagWithVariant(tag: string, variant: string): string {
  if (!variant) return tag;
  let base = tag;
  for (const known of ISTIO_VARIANTS) {
    if (base.endsWith(`-${known}`)) {
      base = base.slice(0, -(known.length + 1));
      break;
    }
  }
  return variant === 'default' ? base : `${base}-${variant}`;
}

/** Runs `istioctl manifest generate --set hub=<hub> --set tag=<version> [--set profile=ambient]` and reads its output. */
export async function istioImagesFromIstioctl(o: IstioImageOptions & { istioctl: string }): Promise<ImageSet> {
  const args = istioctlArgs(o); // validates before anything runs
  o.signal?.throwIfAborted();
  const r = await runCommand(o.istioctl, args, { timeoutMs: o.timeoutMs ?? 120_000, ...(o.signal ? { signal: o.signal } : {}) });
  o.signal?.throwIfAborted();
  if (!r.ok) {
    const install = TOOLS.find((t) => t.name === 'istioctl')?.install;
    const fix = r.spawnError
      ? `check the istioctl path ${o.istioctl}${install ? `, or ${install}` : ''}`
      : r.timedOut
        ? 'istioctl renders offline and takes seconds; raise the timeout, or check that it is not waiting on a cluster'
        : `check that this istioctl can render Istio ${o.version} (run the command above by hand), or leave istioctl out to use the naming convention`;
    throw new InfrastructureError(`could not list the images of Istio ${o.version}: ${describeFailure(r)}`, fix);
  }
  return istioImagesFromManifest(r.stdout, o);
}

/**
 * The images of an Istio install: with istioctl when a path is given (no silent fall-back: who names an istioctl
 * wants its answer, and its failure is worth knowing), by convention otherwise.
 */
export async function istioImages(o: IstioImageOptions): Promise<ImageSet & { method: 'istioctl' | 'convention' }> {
  if (o.istioctl !== undefined) return { ...(await istioImagesFromIstioctl({ ...o, istioctl: o.istioctl })), method: 'istioctl' };
  return { ...istioImagesByConvention(o), method: 'convention' };
}
