/**
 * istioctl's command lines, as data (pure), and its version. Flags as istioctl 1.27 defines them:
 * operator/cmd/mesh/install.go (-y/--skip-confirmation, --set, --readiness-timeout, -r/--revision),
 * uninstall.go (--purge), and the root flags --kubeconfig/-c and --context. `--set` paths are relative to the
 * IstioOperator spec: `profile=…`, `hub=…`, `tag=…`, `values.pilot.image=…`. An image value containing "/" is
 * used verbatim by the charts (manifests/charts/istio-control/istio-discovery/templates/deployment.yaml and the
 * injection template), which is what makes per-arch digest pinning work.
 */
import type { KubeTarget } from '../../kube/client.ts';
import type { MeshInstallOptions } from '../adapter.ts';

/** The values key of each pinnable Istio component image. */
export const ISTIO_IMAGE_KEYS: Readonly<Record<string, string>> = {
  pilot: 'values.pilot.image',
  proxy: 'values.global.proxy.image',
  proxy_init: 'values.global.proxy_init.image',
  cni: 'values.cni.image',
  ztunnel: 'values.ztunnel.image',
};

export function targetArgs(t: KubeTarget): string[] {
  return ['--kubeconfig', t.kubeconfig, ...(t.context ? ['--context', t.context] : [])];
}

export function installArgs(t: KubeTarget, o: MeshInstallOptions): string[] {
  const set: string[] = [`profile=${o.profile}`];
  if (o.hub) set.push(`hub=${o.hub}`);
  if (o.tag) set.push(`tag=${o.tag}`);
  for (const [component, image] of Object.entries(o.images ?? {})) {
    const key = ISTIO_IMAGE_KEYS[component];
    if (!key) throw new Error(`unknown Istio component "${component}" (known: ${Object.keys(ISTIO_IMAGE_KEYS).join(', ')})`);
    if (!image.includes('/')) throw new Error(`image for ${component} must be a full reference with a registry or repository path (istio treats a bare name as an image name under hub): ${image}`);
    set.push(`${key}=${image}`);
  }
  for (const [k, v] of Object.entries(o.set ?? {})) set.push(`${k}=${v}`);
  return ['install', '-y', ...targetArgs(t), ...set.flatMap((s) => ['--set', s]), '--readiness-timeout', `${o.readinessTimeoutSeconds}s`];
}

export function uninstallArgs(t: KubeTarget): string[] {
  return ['uninstall', '--purge', '-y', ...targetArgs(t)];
}

/** The client version from `istioctl version --remote=false -o json`. */
export function parseClientVersion(json: string): string | undefined {
  try {
    return (JSON.parse(json) as { clientVersion?: { version?: string } }).clientVersion?.version;
  } catch {
    return undefined;
  }
}
