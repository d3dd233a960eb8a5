/**
 * The mesh's own data for tests, fetched at test time and cached outside the repo (never committed):
 *  - Istio's CRDs and install manifests from the real istioctl (`istioctl manifest generate` renders the charts
 *    embedded in the binary, offline);
 *  - Gateway API's standard CRDs from the sigs.k8s.io/gateway-api module of the pinned version
 *    (config/crd/standard/*.yaml in the module).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseObjects, type KubeObject } from '../kube/apply.ts';
import { runChecked } from '../process/run.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { moduleDir } from '../../scripts/control-plane/obtain.ts';
import type { ControlPlaneState } from './control-plane.ts';

async function cached(file: string, make: () => Promise<string>): Promise<string> {
  if (existsSync(file)) return readFile(file, 'utf8');
  await mkdir(path.dirname(file), { recursive: true });
  const text = await make();
  await writeFileAtomic(file, text);
  return text;
}

/** Every object `istioctl manifest generate` renders for a profile (CRDs included). */
export async function istioManifest(cp: ControlPlaneState, profile = 'minimal'): Promise<KubeObject[]> {
  const file = path.join(cp.cacheDir, 'mesh-data', `istio-${cp.versions.istio}-${profile}.yaml`);
  const text = await cached(file, async () => (await runChecked(cp.binaries.istioctl, ['manifest', 'generate', '--set', `profile=${profile}`], { timeoutMs: 120_000 })).stdout);
  return parseObjects(text, `istioctl manifest generate --set profile=${profile}`);
}

export async function istioCrds(cp: ControlPlaneState): Promise<KubeObject[]> {
  return (await istioManifest(cp)).filter((o) => o.kind === 'CustomResourceDefinition');
}

/** Gateway API's standard-channel CRDs of the pinned version. */
export async function gatewayApiCrds(cp: ControlPlaneState): Promise<KubeObject[]> {
  const file = path.join(cp.cacheDir, 'mesh-data', `gateway-api-${cp.versions.gatewayApi}-standard.yaml`);
  const text = await cached(file, async () => {
    const dir = path.join(await moduleDir({ env: process.env }, 'sigs.k8s.io/gateway-api', `v${cp.versions.gatewayApi}`), 'config', 'crd', 'standard');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
    return (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).join('\n---\n');
  });
  return parseObjects(text, `sigs.k8s.io/gateway-api@v${cp.versions.gatewayApi} config/crd/standard`);
}
