/**
 * `meshcheck mesh` end to end: the real CLI, the real istioctl and the test control plane. The control plane's
 * context was not created by meshcheck, so the CLI refuses it unless --allow-existing-cluster is given.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { requireControlPlane } from '../testing/control-plane.ts';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/meshcheck.js');
const cp = await requireControlPlane();

describe.runIf(cp)('meshcheck mesh on the test control plane', () => {
  const run = (args: string[]) => execa('node', [bin, ...args], { reject: false, env: { MESHCHECK_FROM_SOURCE: '1' } });
  const target = ['--kubeconfig', cp!.kubeconfig, '--istioctl', cp!.binaries.istioctl];
  // A failed test must not leave Istio behind for the files after this one.
  afterAll(async () => {
    await run(['mesh', 'uninstall', ...target, '--allow-existing-cluster']);
  }, 300_000);

  it('refuses a cluster meshcheck did not create, naming the context and the flag (exit 2, no stack)', async () => {
    const r = await run(['mesh', 'install', ...target, '--profile', 'minimal']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('context "meshcheck-test"');
    expect(r.stderr).toContain('is a cluster meshcheck did not create');
    expect(r.stderr).toMatch(/fix: pass --allow-existing-cluster/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--dry-run prints every command and changes nothing', async () => {
    const r = await run(['mesh', 'install', ...target, '--allow-existing-cluster', '--profile', 'minimal', '--dry-run']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`${cp!.binaries.istioctl} install -y --kubeconfig ${cp!.kubeconfig} --context meshcheck-test --set profile=minimal --readiness-timeout 300s`);
    const status = await run(['mesh', 'status', ...target, '--allow-existing-cluster', '--json']);
    expect(JSON.parse(status.stdout)).toEqual([]);
  });

  it('installs, reports status and uninstalls with --allow-existing-cluster', { timeout: 300_000 }, async () => {
    const install = await run(['mesh', 'install', ...target, '--allow-existing-cluster', '--profile', 'minimal', '--readiness-timeout', '120s']);
    expect(install.stderr).not.toMatch(/internal error/);
    expect(install.exitCode).toBe(0);
    expect(install.stdout).toMatch(new RegExp(`^Istio ${cp!.versions.istio.replaceAll('.', '\\.')} \\(profile minimal\\) installed in [\\d.]+ s: istiod Available`));
    const status = await run(['mesh', 'status', ...target, '--allow-existing-cluster', '--json']);
    expect(JSON.parse(status.stdout)).toEqual([{ namespace: 'istio-system', deployment: 'istiod', available: true, images: [`docker.io/istio/pilot:${cp!.versions.istio}`] }]);
    const un = await run(['mesh', 'uninstall', ...target, '--allow-existing-cluster']);
    expect(un.exitCode).toBe(0);
    expect(un.stdout).toBe('Istio uninstalled');
  });

  it('an istioctl of another version is a usage error with the fix', async () => {
    const r = await run(['mesh', 'install', ...target, '--allow-existing-cluster', '--istio-version', '1.26.3']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/is version 1\.27\.0, but Istio 1\.26\.3 was asked for/);
    expect(r.stderr).toMatch(/fix: use istioctl 1\.26\.3/);
  });
});
