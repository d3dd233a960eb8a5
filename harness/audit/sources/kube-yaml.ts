/**
 * Image references in Kubernetes manifests: `kubectl apply -f` files, `helm template` and `istioctl manifest
 * generate` output. Pure: text in, ImageSet out. A bad document is a problem entry and the other documents still
 * count, so one typo does not hide the images of a whole release.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import type { ImageSet, ImageUse } from './types.ts';

type JsonObject = Record<string, unknown>;

/** Kinds whose pod template sits at spec.template.spec (apps/v1, batch/v1 Job, core/v1 ReplicationController). */
const TEMPLATE_KINDS = new Set(['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet', 'Job', 'ReplicationController']);

/** The three container lists of a PodSpec, in the order their containers start, with the word `from` uses for each. */
const CONTAINER_LISTS = [
  ['initContainers', 'initContainer'],
  ['containers', 'container'],
  ['ephemeralContainers', 'ephemeralContainer'],
] as const;

/**
 * Container names the Istio injector owns. On these, `image: auto` is not an image but a request to keep the
 * injected one (istio/istio pkg/kube/inject/webhook.go:539 and :562 clear it, :990-993 define "auto"); the gateway
 * chart renders exactly that (manifests/charts/gateway/templates/deployment.yaml:71-73, at tag 1.30.3). Listing
 * "auto" would send the audit to docker.io/library/auto. The injected image is proxyv2, which the Istio source
 * lists. On any other container "auto" stays an image, because nothing replaces it there.
 */
const INJECTED_CONTAINERS = new Set(['istio-proxy', 'istio-init', 'istio-validation']);
const AUTO_IMAGE = 'auto';

/** Lists nest rarely and shallowly; the bound only stops a pathological file from recursing without end. */
const MAX_LIST_DEPTH = 8;

export function imagesFromKubeYaml(text: string, origin: string): ImageSet {
  const out: ImageSet = { images: [], problems: [] };
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true });
  docs.forEach((doc, i) => {
    const where = `${origin}: document ${i + 1} (line ${lineCounter.linePos(doc.range[0]).line})`;
    const [first, ...more] = doc.errors;
    if (first) {
      // The parser's first message already says the line and column; the rest are usually its consequences.
      const message = first.message.split('\n')[0]!.replace(/:$/, '');
      out.problems.push({
        from: where,
        message: `not valid YAML: ${message}${more.length ? ` (and ${more.length} more error${more.length > 1 ? 's' : ''})` : ''}; its images were not read`,
        fix: `fix the YAML of document ${i + 1} in ${origin} at that line (indentation, a missing ':' or closing bracket); the other documents were read`,
      });
      return;
    }
    // A document of only comments or only `---` (Helm prints `# Source:` headers for templates that render nothing).
    if (doc.contents === null) return;
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (err) {
      // Alias expansion limits and similar: the syntax parsed but the document cannot become data.
      out.problems.push({
        from: where,
        message: `could not be read as data: ${err instanceof Error ? err.message : String(err)}`,
        fix: `simplify document ${i + 1} in ${origin} (for example expand its YAML anchors and aliases)`,
      });
      return;
    }
    // A document of only `~` or `null` holds no object, so no image; like an empty one it is not a problem.
    if (value === null || value === undefined) return;
    visit(value, origin, where, out, 0);
  });
  return out;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'a list' : v === null ? 'null' : `a ${typeof v}`;
}

/** "Deployment istio-system/istiod": the object as a person finds it with kubectl. */
function describe(kind: string, obj: JsonObject): string {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const ns = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
  const name =
    typeof meta.name === 'string' && meta.name
      ? meta.name
      : typeof meta.generateName === 'string' && meta.generateName
        ? `${meta.generateName}*`
        : '(unnamed)';
  return `${kind} ${ns}/${name}`;
}

function visit(value: unknown, origin: string, where: string, out: ImageSet, depth: number): void {
  if (!isObject(value)) {
    out.problems.push({
      from: where,
      message: `is ${typeName(value)}, not a Kubernetes object`,
      fix: `make it one object with apiVersion, kind and metadata, or remove it from ${origin}`,
    });
    return;
  }
  const kind = value.kind;
  // Objects without a kind, and kinds that hold no pods (Service, ConfigMap, CRDs …), carry no images to audit.
  if (typeof kind !== 'string') return;

  // `kind: List` (kubectl get -o yaml) and typed lists (PodList, DeploymentList …) alike.
  if (kind.endsWith('List')) {
    if (!Array.isArray(value.items)) return;
    if (depth >= MAX_LIST_DEPTH) {
      out.problems.push({ from: where, message: `Lists nested deeper than ${MAX_LIST_DEPTH} levels were not read`, fix: 'flatten the List' });
      return;
    }
    value.items.forEach((item, j) => visit(item, origin, `${where}, ${kind} item ${j + 1}`, out, depth + 1));
    return;
  }

  const located = podSpecOf(kind, value);
  if (!located) return;
  const object = describe(kind, value);
  if (!isObject(located.spec)) {
    out.problems.push({
      from: `${origin}: ${object}`,
      message: `has no pod spec at ${located.path}, so its images are unknown`,
      fix: `give ${object} in ${origin} a ${located.path} with its containers`,
    });
    return;
  }
  containersOf(located.spec, located.path, `${origin}: ${object}`, out);
}

/** Where each pod-carrying kind keeps its PodSpec (Kubernetes API reference, core/v1, apps/v1, batch/v1). */
function podSpecOf(kind: string, obj: JsonObject): { spec: unknown; path: string } | undefined {
  const at = (path: string[]): unknown => path.reduce<unknown>((v, key) => (isObject(v) ? v[key] : undefined), obj);
  if (kind === 'Pod') return { spec: obj.spec, path: 'spec' };
  if (kind === 'PodTemplate') return { spec: at(['template', 'spec']), path: 'template.spec' };
  if (kind === 'CronJob') return { spec: at(['spec', 'jobTemplate', 'spec', 'template', 'spec']), path: 'spec.jobTemplate.spec.template.spec' };
  if (TEMPLATE_KINDS.has(kind)) return { spec: at(['spec', 'template', 'spec']), path: 'spec.template.spec' };
  return undefined;
}

function containersOf(spec: JsonObject, specPath: string, object: string, out: ImageSet): void {
  for (const [field, word] of CONTAINER_LISTS) {
    const list = spec[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      out.problems.push({
        from: object,
        message: `${specPath}.${field} is ${typeName(list)}, not a list of containers`,
        fix: `make ${specPath}.${field} a list of containers`,
      });
      continue;
    }
    list.forEach((c, k) => {
      const path = `${specPath}.${field}[${k}]`;
      if (!isObject(c)) {
        out.problems.push({ from: object, message: `${path} is ${typeName(c)}, not a container`, fix: `make ${path} a container with name and image` });
        return;
      }
      const name = typeof c.name === 'string' && c.name ? c.name : `#${k + 1} (unnamed)`;
      const from = `${object}, ${word} ${name}`;
      const image = c.image;
      if (typeof image !== 'string' || image.trim() === '') {
        out.problems.push({
          from,
          message: image === undefined || image === null || image === '' ? 'has no image' : `has no usable image (image is ${typeName(image)})`,
          fix: `set ${path}.image to the image reference it runs, such as registry.example/app:1.0`,
        });
        return;
      }
      if (image.includes('{{')) {
        out.problems.push({
          from,
          message: `image ${JSON.stringify(image)} is an unrendered template`,
          fix: 'audit rendered output (`helm template …` or `istioctl manifest generate …`), not the chart source',
        });
        return;
      }
      if (image !== image.trim() || /\s/.test(image)) {
        // The API server rejects these (leading/trailing whitespace), and a registry lookup would only add confusion.
        out.problems.push({ from, message: `image ${JSON.stringify(image)} contains whitespace`, fix: `remove the whitespace from ${path}.image` });
        return;
      }
      if (image === AUTO_IMAGE && INJECTED_CONTAINERS.has(name)) return;
      out.images.push({ image, from });
    });
  }
}

/** One entry per distinct image, in the order first seen, with every place it was found. */
export function dedupeImages(uses: ImageUse[]): Array<{ image: string; from: string[] }> {
  const byImage = new Map<string, string[]>();
  for (const u of uses) {
    const froms = byImage.get(u.image);
    if (froms) {
      if (!froms.includes(u.from)) froms.push(u.from);
    } else {
      byImage.set(u.image, [u.from]);
    }
  }
  return [...byImage].map(([image, from]) => ({ image, from }));
}
