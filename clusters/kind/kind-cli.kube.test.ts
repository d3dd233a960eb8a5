/**
 * clusters/kind against the real kind CLI (v0.32.0, built from its module by the control plane's fetch) and the
 * real Docker engine. No kind node image can be pulled here, so a cluster never comes up; what is tested is what
 * runs before and around that: kind parses and accepts the generated config, a failed create is reported with
 * kind's own error and the fix, nothing is left behind, and ownership records decide what may be deleted.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KIND_NODE_IMAGE } from '../../harness/defaults.ts';
import { requireControlPlane } from '../../harness/testing/control-plane.ts';
import { requireTestbed } from '../../harness/testing/testbed.ts';
import { runCommand } from '../../harness/process/run.ts';
import { kindConfigYaml } from './config.ts';
import { KindCluster } from './kind-cluster.ts';
import { isOurCluster, kindClusters, reapOrphanClusters, writeOwnership } from './ownership.ts';

const cp = await requireControlPlane();
const bed = await requireTestbed();
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/meshcheck.js');

describe.runIf(cp && bed)('kind clusters through the real kind CLI', () => {
  const kind = cp!.binaries.kind;
  const ctx = async () => ({ kind, docker: 'docker', stateDir: await mkdtemp(path.join(os.tmpdir(), 'mc-kind-')), runId: 'test-run', log: () => {} });

  it('kind accepts the generated config (it parses it and goes on to the node image)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mc-kindcfg-'));
    const file = path.join(dir, 'kind.yaml');
    await writeFile(file, kindConfigYaml({ name: 'mc-config-check', nodeImage: DEFAULT_KIND_NODE_IMAGE, workers: 2, ingress: { httpHostPort: 18080, httpsHostPort: 18443 }, registry: { host: 'localhost:5001', endpoint: 'http://kind-registry:5000' }, nodeLabels: { 'meshcheck.run': 'x' } }));
    const r = await runCommand(kind, ['create', 'cluster', '--name', 'mc-config-check', '--config', file, '--kubeconfig', path.join(dir, 'kc'), '--wait', '0s'], { timeoutMs: 120_000 });
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toContain('Creating cluster "mc-config-check"');
    expect(out).toContain('Ensuring node image (kindest/node:v1.33.12)');
    expect(out).not.toMatch(/unable to decode config|invalid configuration/);
    // And kind rejects a config it does not understand, so the check above can fail.
    await writeFile(file, 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: leader\n');
    const bad = await runCommand(kind, ['create', 'cluster', '--name', 'mc-config-check', '--config', file], { timeoutMs: 60_000 });
    expect(bad.stderr).toMatch(/"leader" is not a valid node role/);
    expect(await kindClusters({ kind })).toEqual([]);
  });

  it('a create that cannot pull the node image fails at once (not retried) with kind’s error and the fix; nothing is left', async () => {
    const c = await ctx();
    const log: string[] = [];
    const started = Date.now();
    const err = await new KindCluster({ name: 'mc-no-image', nodeImage: DEFAULT_KIND_NODE_IMAGE, workers: 0 })
      .withCreateRetries(2, 50)
      .start({ ...c, log: (l) => log.push(l) })
      .catch((e: Error & { fix?: string }) => e);
    expect((err as Error).message).toMatch(/kind could not create cluster mc-no-image: .*kind create cluster --name mc-no-image/);
    expect((err as Error).message).toMatch(/failed to pull image "kindest\/node:v1\.33\.12@sha256:3f5c8443/);
    expect((err as { fix?: string }).fix).toMatch(/node image could not be pulled/);
    expect(log.filter((l) => l.includes('retrying'))).toEqual([]);
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(await isOurCluster(c, 'mc-no-image')).toBe(false);
    expect(await kindClusters({ kind })).toEqual([]);
    const containers = await runCommand('docker', ['ps', '-aq', '--filter', 'label=io.x-k8s.kind.cluster']);
    expect(containers.stdout.trim()).toBe('');
  });

  it('reaps the records of dead runs and never a cluster without a record', async () => {
    const c = await ctx();
    await writeOwnership(c, 'mc-dead-run');
    const dead = await reapOrphanClusters(c, () => false);
    expect(dead).toEqual(['mc-dead-run']);
    await writeOwnership(c, 'mc-live-run');
    expect(await reapOrphanClusters(c, () => true)).toEqual([]);
    expect(await isOurCluster(c, 'mc-live-run')).toBe(true);
  });

  it('`meshcheck cluster up` ends with exit 3, kind’s reason and the fix — no stack trace', { timeout: 180_000 }, async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'mc-kindcli-'));
    const r = await execa('node', [bin, 'cluster', 'up', '--name', 'mc-cli-up', '--kind', kind, '--workers', '0'], { reject: false, env: { MESHCHECK_FROM_SOURCE: '1', MESHCHECK_CLUSTERS_DIR: stateDir } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/meshcheck: kind could not create cluster mc-cli-up/);
    expect(r.stderr).toMatch(/fix: the node image could not be pulled/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const down = await execa('node', [bin, 'cluster', 'down', '--name', 'somebody-elses', '--kind', kind], { reject: false, env: { MESHCHECK_FROM_SOURCE: '1', MESHCHECK_CLUSTERS_DIR: stateDir } });
    expect(down.exitCode).toBe(2);
    expect(down.stderr).toMatch(/was not created by meshcheck/);
  });
});
