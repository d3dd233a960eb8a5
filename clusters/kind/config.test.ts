import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KIND_NODE_IMAGE } from '../../harness/defaults.ts';
import { kindConfig, kindConfigYaml, registryHostsToml } from './config.ts';
import { createFailureFix, isTransientCreateFailure, KindCluster } from './kind-cluster.ts';

const spec = { name: 'mc-a1', nodeImage: DEFAULT_KIND_NODE_IMAGE, workers: 1 };

describe('kind config (v1alpha4)', () => {
  it('a control plane and workers on the pinned image; ingress ports on the control plane, which is labelled ingress-ready', () => {
    const c = parse(kindConfigYaml({ ...spec, ingress: { httpHostPort: 8080, httpsHostPort: 8443 }, nodeLabels: { 'meshcheck.run': 'r1' } }));
    expect(c).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: 'mc-a1' });
    expect(c.nodes).toHaveLength(2);
    expect(c.nodes[0]).toEqual({
      role: 'control-plane',
      image: DEFAULT_KIND_NODE_IMAGE,
      labels: { 'meshcheck.run': 'r1', 'ingress-ready': 'true' },
      extraPortMappings: [
        { containerPort: 80, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'TCP' },
        { containerPort: 443, hostPort: 8443, listenAddress: '127.0.0.1', protocol: 'TCP' },
      ],
    });
    expect(c.nodes[1]).toEqual({ role: 'worker', image: DEFAULT_KIND_NODE_IMAGE, labels: { 'meshcheck.run': 'r1' } });
    expect(c.containerdConfigPatches).toBeUndefined();
  });

  it('a registry mirror adds containerd’s config_path and a hosts.toml per node', () => {
    const c = kindConfig({ ...spec, registry: { host: 'localhost:5001', endpoint: 'http://kind-registry:5000' } });
    expect(c.containerdConfigPatches).toEqual(['[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"']);
    expect(registryHostsToml({ host: 'localhost:5001', endpoint: 'http://kind-registry:5000' })).toBe('[host."http://kind-registry:5000"]\n');
  });

  it('refuses names kind refuses and node images that are not pinned by digest', () => {
    expect(() => kindConfig({ ...spec, name: 'Mesh_Check' })).toThrow(/not valid/);
    expect(() => kindConfig({ ...spec, nodeImage: 'kindest/node:v1.33.12' })).toThrow(/not pinned by digest/);
  });

  it('plans create with its own kubeconfig, never waiting inside kind', () => {
    const plan = new KindCluster(spec).withCreateRetries(3).plan({ stateDir: '/s', kind: '/bin/kind', docker: 'docker' });
    expect(plan.commands[0]?.args).toEqual(['create', 'cluster', '--name', 'mc-a1', '--config', '/s/mc-a1/kind.yaml', '--kubeconfig', '/s/mc-a1/kubeconfig', '--wait', '0s']);
    expect(Object.keys(plan.files)).toEqual(['/s/mc-a1/kind.yaml']);
  });
});

describe('create failures', () => {
  it('retries kubeadm timeouts, not pull or config failures', () => {
    expect(isTransientCreateFailure('ERROR: failed to create cluster: failed to init node with kubeadm: command "docker exec ... kubeadm init" failed')).toBe(true);
    expect(isTransientCreateFailure('[kubelet-check] Initial timeout of 40s passed. timed out waiting for the condition')).toBe(true);
    expect(isTransientCreateFailure('ERROR: failed to create cluster: failed to pull image "kindest/node@sha256:x"')).toBe(false);
    expect(isTransientCreateFailure('ERROR: failed to create cluster: unable to decode config')).toBe(false);
  });

  it('names the fix from kind’s wording', () => {
    expect(createFailureFix('failed to pull image "x"')).toMatch(/could not be pulled/);
    expect(createFailureFix('node(s) already exist for a cluster with the name "a"')).toMatch(/cluster of that name exists/);
    expect(createFailureFix('Cannot connect to the Docker daemon at unix:///var/run/docker.sock')).toMatch(/running Docker engine/);
  });
});
