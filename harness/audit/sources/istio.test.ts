import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InfrastructureError, UsageError } from '../../errors.ts';
import { ISTIOCTL_AMBIENT_1_30_3, ISTIOCTL_DEFAULT_1_30_3, INJECTOR_CONFIGMAP_1_12_0 } from './fixtures/istioctl-manifest-generate.ts';
import {
  istioctlArgs,
  istioImages,
  istioImagesByConvention,
  istioImagesFromIstioctl,
  istioImagesFromManifest,
  proxyImageFromValues,
  validHub,
  validIstioVersion,
} from './istio.ts';
import { dedupeImages } from './kube-yaml.ts';

const distinct = (set: { images: { image: string }[] }) => dedupeImages(set.images as { image: string; from: string }[]).map((d) => d.image);

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('istioImagesByConvention', () => {
  test('default profile: pilot and proxyv2 (ingress gateway and injected sidecars), on docker.io/istio', () => {
    const set = istioImagesByConvention({ version: '1.30.3' });
    expect(set.problems).toEqual([]);
    expect(set.images).toEqual([
      { image: 'docker.io/istio/pilot:1.30.3', from: 'Istio 1.30.3 (default profile, by convention): Deployment istio-system/istiod, container discovery' },
      {
        image: 'docker.io/istio/proxyv2:1.30.3',
        from: 'Istio 1.30.3 (default profile, by convention): Deployment istio-system/istio-ingressgateway, container istio-proxy',
      },
      {
        image: 'docker.io/istio/proxyv2:1.30.3',
        from: 'Istio 1.30.3 (default profile, by convention): ConfigMap istio-system/istio-sidecar-injector, injected into sidecars (containers istio-init or istio-validation, and istio-proxy)',
      },
    ]);
  });

  test('ambient profile: adds install-cni and ztunnel, drops the ingress gateway, and everything is -distroless', () => {
    const set = istioImagesByConvention({ version: '1.30.3', ambient: true });
    expect(distinct(set)).toEqual([
      'docker.io/istio/pilot:1.30.3-distroless',
      'docker.io/istio/install-cni:1.30.3-distroless',
      'docker.io/istio/ztunnel:1.30.3-distroless',
      'docker.io/istio/proxyv2:1.30.3-distroless',
    ]);
    expect(set.images.map((u) => u.from.replace(/^.*?: /, ''))).toEqual([
      'Deployment istio-system/istiod, container discovery',
      'DaemonSet istio-system/istio-cni-node, container install-cni',
      'DaemonSet istio-system/ztunnel, container istio-proxy',
      'ConfigMap istio-system/istio-sidecar-injector, injected into sidecars and waypoints (containers istio-init or istio-validation, and istio-proxy)',
    ]);
  });

  test('proxyv2 is listed even though no workload of an ambient install runs it', () => {
    const set = istioImagesByConvention({ version: '1.30.3', ambient: true });
    expect(set.images.filter((u) => u.image.includes('/proxyv2:'))).toHaveLength(1);
  });

  test('hub and an explicit variant compose as ${hub}/${name}:${tag}-${variant}', () => {
    expect(distinct(istioImagesByConvention({ version: '1.28.0-beta.1', hub: 'gcr.io/istio-release', variant: 'distroless' }))).toEqual([
      'gcr.io/istio-release/pilot:1.28.0-beta.1-distroless',
      'gcr.io/istio-release/proxyv2:1.28.0-beta.1-distroless',
    ]);
    expect(distinct(istioImagesByConvention({ version: '1.30.3', ambient: true, variant: 'debug', hub: 'localhost:5000/istio' }))).toEqual([
      'localhost:5000/istio/pilot:1.30.3-debug',
      'localhost:5000/istio/install-cni:1.30.3-debug',
      'localhost:5000/istio/ztunnel:1.30.3-debug',
      'localhost:5000/istio/proxyv2:1.30.3-debug',
    ]);
  });

  test('a dev build tag', () => {
    const sha = '6d2f1bd0d1a4b6b3c1a8e5d4f0c2b9a7e3d1c5b8';
    expect(distinct(istioImagesByConvention({ version: `1.29-alpha.${sha}`, hub: 'gcr.io/istio-testing' }))).toEqual([
      `gcr.io/istio-testing/pilot:1.29-alpha.${sha}`,
      `gcr.io/istio-testing/proxyv2:1.29-alpha.${sha}`,
    ]);
  });
});

describe('validation names the flag and the fix', () => {
  test.each(['1.28.0', '1.28.0-beta.1', '1.28.0-rc.0', '1.29-alpha.f850909d7ac95501bbb2ae91f57df218bcf7c630', '1.30.0-alpha.1'])('version %s is accepted', (v) => {
    expect(validIstioVersion(v)).toBe(v);
  });

  test.each([
    ['', /--istio "" is not an Istio version: it is empty/, /give the Istio version/],
    ['v1.28.0', /Istio image tags have no "v"/, /use --istio 1\.28\.0/],
    ['1.30', /needs its patch number.*1\.3\)/, /such as 1\.30\.0/],
    ['latest', /MAJOR\.MINOR\.PATCH/, /such as 1\.28\.0/],
    ['1.28.0+build.5', /MAJOR\.MINOR\.PATCH/, /such as 1\.28\.0/],
    ['1.28.0-distroless', /image variant "-distroless"/, /plain version \(1\.28\.0\); the variant comes from the profile/],
    ['1.28.0-beta.1-debug', /image variant "-debug"/, /plain version \(1\.28\.0-beta\.1\)/],
    [`1.28.0-${'a'.repeat(120)}`, /too long for an image tag/, /such as/],
  ])('version %j is refused', (v, message, fix) => {
    const err = usageError(() => istioImagesByConvention({ version: v }));
    expect(err.message).toMatch(/^--istio /);
    expect(err.message).toMatch(message);
    expect(err.fix).toMatch(fix);
  });

  test.each(['docker.io/istio', 'gcr.io/istio-release', 'istio', 'localhost:5000', 'localhost:5000/istio', 'registry.example.com:8443/mirrors/istio', 'my-registry.local/a_b/c__d/e-f', '[::1]:5000/istio'])(
    'hub %s is accepted',
    (h) => {
      expect(validHub(h)).toBe(h);
    },
  );

  test.each([
    ['', /it is empty/, /leave --hub out for docker\.io\/istio/],
    ['docker.io/istio:1.28.0', /has a tag; the tag comes from --istio/, /use --hub docker\.io\/istio$/],
    ['istio:1.28', /has a tag/, /use --hub istio$/],
    ['https://gcr.io/istio-release', /no URL scheme/, /use --hub gcr\.io\/istio-release$/],
    ['gcr.io/istio-release/', /ends in "\/"/, /use --hub gcr\.io\/istio-release$/],
    ['docker.io/Istio', /"Istio" is not a valid repository path component/, /use --hub docker\.io\/istio$/],
    ['docker.io/istio@sha256:abc', /no digest/, /registry and repository path/],
    ['docker.io/ istio', /whitespace/, /registry and repository path/],
    ['bad_host.io/istio', /"bad_host\.io" is not a registry host/, /registry and repository path/],
    ['docker.io//istio', /"" is not a valid repository path component/, /registry and repository path/],
  ])('hub %j is refused', (h, message, fix) => {
    const err = usageError(() => istioImagesByConvention({ version: '1.30.3', hub: h }));
    expect(err.message).toMatch(/^--hub /);
    expect(err.message).toMatch(message);
    expect(err.fix).toMatch(fix);
  });

  test('an unknown variant', () => {
    const err = usageError(() => istioImagesByConvention({ version: '1.30.3', variant: 'alpine' as never }));
    expect(err.message).toMatch(/"alpine" is not an Istio image variant/);
    expect(err.fix).toMatch(/distroless, debug/);
  });
});

describe('istioctl manifest generate output (reconstructed from the 1.30.3 charts, see the fixture file)', () => {
  test('default profile: istiod and the ingress gateway from the Deployments, proxyv2 from the injector values', () => {
    const set = istioImagesFromManifest(ISTIOCTL_DEFAULT_1_30_3, { version: '1.30.3' });
    expect(set.problems).toEqual([]);
    expect(set.images).toEqual([
      {
        image: 'docker.io/istio/proxyv2:1.30.3',
        from: 'istioctl manifest generate (Istio 1.30.3): Deployment istio-system/istio-ingressgateway, container istio-proxy',
      },
      { image: 'docker.io/istio/pilot:1.30.3', from: 'istioctl manifest generate (Istio 1.30.3): Deployment istio-system/istiod, container discovery' },
      {
        image: 'docker.io/istio/proxyv2:1.30.3',
        from: 'istioctl manifest generate (Istio 1.30.3): ConfigMap istio-system/istio-sidecar-injector, injected into sidecars (containers istio-init or istio-validation, and istio-proxy)',
      },
    ]);
  });

  test('the injection template text ({{ .ProxyImage }}) is never taken for an image', () => {
    const set = istioImagesFromManifest(ISTIOCTL_DEFAULT_1_30_3, { version: '1.30.3' });
    expect(set.images.some((u) => u.image.includes('{{'))).toBe(false);
    expect(ISTIOCTL_DEFAULT_1_30_3).toContain('image: "{{ .ProxyImage }}"');
  });

  test('ambient profile: the same set as the convention, every image -distroless', () => {
    const fromIstioctl = istioImagesFromManifest(ISTIOCTL_AMBIENT_1_30_3, { version: '1.30.3', ambient: true });
    expect(fromIstioctl.problems).toEqual([]);
    const byConvention = istioImagesByConvention({ version: '1.30.3', ambient: true });
    expect(new Set(distinct(fromIstioctl))).toEqual(new Set(distinct(byConvention)));
    expect(fromIstioctl.images.map((u) => u.from)).toContain(
      'istioctl manifest generate (Istio 1.30.3, ambient profile): DaemonSet istio-system/ztunnel, container istio-proxy',
    );
  });

  test('default profile: the same set as the convention', () => {
    expect(new Set(distinct(istioImagesFromManifest(ISTIOCTL_DEFAULT_1_30_3, { version: '1.30.3' })))).toEqual(
      new Set(distinct(istioImagesByConvention({ version: '1.30.3' }))),
    );
  });

  test('Istio 1.12 style: the literal Go template {{ .Values.global.hub }}/… in the ConfigMap; proxyv2 is still added', () => {
    const text = [INJECTOR_CONFIGMAP_1_12_0, ISTIOCTL_DEFAULT_1_30_3.split('\n---\n').find((d) => d.includes('kind: Deployment') && d.includes('name: istiod\n'))!].join('\n---\n');
    expect(text).toContain('image: "{{ .Values.global.hub }}/{{ .Values.global.proxy.image }}:{{ .Values.global.tag }}"');
    const set = istioImagesFromManifest(text.replaceAll('1.30.3', '1.12.0'), { version: '1.12.0' });
    expect(set.problems).toEqual([]);
    expect(distinct(set)).toEqual(['docker.io/istio/pilot:1.12.0', 'docker.io/istio/proxyv2:1.12.0']);
  });

  test('no injector ConfigMap (omitSidecarInjectorConfigMap): proxyv2 comes from the convention and says so', () => {
    const withoutInjector = ISTIOCTL_AMBIENT_1_30_3.split('\n---\n')
      .filter((d) => !d.includes('name: istio-sidecar-injector'))
      .join('\n---\n');
    const set = istioImagesFromManifest(withoutInjector, { version: '1.30.3', ambient: true });
    expect(set.problems).toEqual([]);
    const proxy = set.images.find((u) => u.image.includes('/proxyv2:'))!;
    expect(proxy.image).toBe('docker.io/istio/proxyv2:1.30.3-distroless');
    expect(proxy.from).toMatch(/no istio-sidecar-injector ConfigMap in the output, injected into sidecars and waypoints .*\(by convention\)$/);
  });

  test('an injector ConfigMap with broken values: a problem, and proxyv2 by convention', () => {
    const broken = ISTIOCTL_DEFAULT_1_30_3.replace('"hub": "docker.io/istio",', '"hub": "docker.io/istio",,');
    const set = istioImagesFromManifest(broken, { version: '1.30.3' });
    expect(set.problems).toEqual([
      {
        from: 'istioctl manifest generate (Istio 1.30.3): ConfigMap istio-system/istio-sidecar-injector',
        message: 'its data.values is not JSON, so the injected proxy image was taken from the naming convention',
        fix: 'check that this istioctl renders the istiod chart of the same Istio version',
      },
    ]);
    expect(distinct(set)).toContain('docker.io/istio/proxyv2:1.30.3');
  });

  test('output without workloads is a problem', () => {
    const set = istioImagesFromManifest('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: istio-system\n---\n', { version: '1.30.3' });
    expect(set.problems[0]).toMatchObject({ from: 'istioctl manifest generate (Istio 1.30.3)', message: expect.stringMatching(/no workload/) });
  });
});

describe('proxyImageFromValues follows pkg/kube/inject/inject.go ProxyImage/imageURL', () => {
  const values = (global: object) => JSON.stringify({ global });
  test.each([
    [{ hub: 'docker.io/istio', tag: '1.30.3', proxy: { image: 'proxyv2' } }, 'docker.io/istio/proxyv2:1.30.3'],
    [{ hub: 'docker.io/istio', tag: '1.30.3', variant: 'distroless' }, 'docker.io/istio/proxyv2:1.30.3-distroless'],
    [{ hub: 'h', tag: '1.30.3-distroless', variant: 'debug' }, 'h/proxyv2:1.30.3-debug'],
    [{ hub: 'h', tag: '1.30.3-distroless', variant: 'default' }, 'h/proxyv2:1.30.3'],
    [{ hub: 'h', tag: '1.30.3', proxy: { image: 'registry.example/custom/envoy:9' } }, 'registry.example/custom/envoy:9'],
  ])('%j -> %s', (global, image) => {
    expect(proxyImageFromValues(values(global))).toEqual({ image });
  });
  test('missing pieces are said', () => {
    expect(proxyImageFromValues(undefined)).toEqual({ why: 'is missing' });
    expect(proxyImageFromValues('{}')).toEqual({ why: 'has no "global" object' });
    expect(proxyImageFromValues(values({ tag: '1' }))).toEqual({ why: 'has no global.hub or global.tag' });
  });
});

describe('running istioctl', () => {
  test('the arguments', () => {
    expect(istioctlArgs({ version: '1.30.3' })).toEqual(['manifest', 'generate', '--set', 'hub=docker.io/istio', '--set', 'tag=1.30.3']);
    expect(istioctlArgs({ version: '1.30.3', hub: 'gcr.io/istio-release', ambient: true, variant: 'debug' })).toEqual([
      'manifest',
      'generate',
      '--set',
      'hub=gcr.io/istio-release',
      '--set',
      'tag=1.30.3',
      '--set',
      'profile=ambient',
      '--set',
      'values.global.variant=debug',
    ]);
  });

  // istioctl is not installed here; a stand-in program (Node, started by runCommand like the real one) records its
  // arguments and prints the reconstructed output, so the spawn, argument and error paths are real.
  let dir: string;
  let fake: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'meshcheck-istioctl-'));
    await writeFile(path.join(dir, 'out.yaml'), ISTIOCTL_AMBIENT_1_30_3);
    fake = path.join(dir, 'istioctl');
    await writeFile(
      fake,
      `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
fs.writeFileSync(path.join(__dirname, 'args.json'), JSON.stringify(process.argv.slice(2)));
if (process.env.FAKE_ISTIOCTL_FAIL) { console.error('Error: failed to generate manifest: unknown profile "ambient"'); process.exit(1); }
process.stdout.write(fs.readFileSync(path.join(__dirname, 'out.yaml'), 'utf8'));
`,
    );
    await chmod(fake, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('istioImages uses istioctl when given, passes the flags, and reads the output', async () => {
    const set = await istioImages({ version: '1.30.3', ambient: true, istioctl: fake });
    expect(set.method).toBe('istioctl');
    expect(JSON.parse(await readFile(path.join(dir, 'args.json'), 'utf8'))).toEqual([
      'manifest',
      'generate',
      '--set',
      'hub=docker.io/istio',
      '--set',
      'tag=1.30.3',
      '--set',
      'profile=ambient',
    ]);
    expect(set.problems).toEqual([]);
    expect(distinct(set)).toContain('docker.io/istio/ztunnel:1.30.3-distroless');
  });

  test('istioImages without istioctl uses the convention', async () => {
    const set = await istioImages({ version: '1.30.3' });
    expect(set.method).toBe('convention');
    expect(distinct(set)).toEqual(['docker.io/istio/pilot:1.30.3', 'docker.io/istio/proxyv2:1.30.3']);
  });

  test('a failing istioctl is an InfrastructureError with its output and a fix', async () => {
    process.env.FAKE_ISTIOCTL_FAIL = '1';
    try {
      const err = await istioImagesFromIstioctl({ version: '1.30.3', ambient: true, istioctl: fake }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InfrastructureError);
      const e = err as InfrastructureError;
      expect(e.message).toMatch(/could not list the images of Istio 1\.30\.3: `.*istioctl manifest generate --set hub=docker\.io\/istio .*` exited with code 1/);
      expect(e.message).toMatch(/unknown profile "ambient"/);
      expect(e.fix).toMatch(/can render Istio 1\.30\.3.*leave istioctl out/);
    } finally {
      delete process.env.FAKE_ISTIOCTL_FAIL;
    }
  });

  test('a missing istioctl is an InfrastructureError naming the path', async () => {
    const missing = path.join(dir, 'nope', 'istioctl');
    const err = await istioImagesFromIstioctl({ version: '1.30.3', istioctl: missing }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfrastructureError);
    expect((err as InfrastructureError).message).toMatch(/could not start \(ENOENT/);
    expect((err as InfrastructureError).fix).toContain(`check the istioctl path ${missing}`);
  });

  test('a bad version is refused before anything runs', async () => {
    await expect(istioImagesFromIstioctl({ version: 'latest', istioctl: path.join(dir, 'never-run') })).rejects.toBeInstanceOf(UsageError);
  });

  test('an aborted signal stops before running', async () => {
    const ac = new AbortController();
    ac.abort(new Error('cancelled by the user'));
    await expect(istioImagesFromIstioctl({ version: '1.30.3', istioctl: fake, signal: ac.signal })).rejects.toThrow('cancelled by the user');
  });
});
