/**
 * The audit's istioctl way with the real istioctl (1.27.0, built from its module by the test control plane): the
 * images it reads from `istioctl manifest generate` agree with Istio's naming convention, for the default and the
 * ambient profile, and follow --hub. (The unit tests keep a fixture reconstructed from 1.30.3's charts for the
 * parsing details; this is the same code on the real program's output.)
 */
import { describe, expect, it } from 'vitest';
import { requireControlPlane } from '../../testing/control-plane.ts';
import { istioImagesByConvention, istioImagesFromIstioctl } from './istio.ts';

const cp = await requireControlPlane();

describe.runIf(cp)('audit --istio with the real istioctl', () => {
  const version = cp!.versions.istio;
  const uniq = (xs: { image: string }[]) => [...new Set(xs.map((x) => x.image))].sort();

  it('default profile: pilot and proxyv2 (gateway and injector), as the convention says', async () => {
    const real = await istioImagesFromIstioctl({ istioctl: cp!.binaries.istioctl, version });
    expect(real.problems).toEqual([]);
    expect(uniq(real.images)).toEqual([`docker.io/istio/pilot:${version}`, `docker.io/istio/proxyv2:${version}`]);
    expect(uniq(real.images)).toEqual(uniq(istioImagesByConvention({ version }).images));
    expect(real.images.map((i) => i.from)).toEqual(expect.arrayContaining([expect.stringMatching(/ConfigMap istio-system\/istio-sidecar-injector/)]));
  });

  it('ambient profile and a private hub: ztunnel and install-cni, distroless, under the hub', async () => {
    const o = { version, ambient: true, hub: 'registry.example.com/mirror/istio' };
    const real = await istioImagesFromIstioctl({ istioctl: cp!.binaries.istioctl, ...o });
    expect(real.problems).toEqual([]);
    expect(uniq(real.images)).toEqual(uniq(istioImagesByConvention(o).images));
    expect(uniq(real.images)).toContain(`registry.example.com/mirror/istio/ztunnel:${version}-distroless`);
  });
});
