import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { describe, expect, test } from 'vitest';
import { runCommand } from '../../harness/process/run.ts';
import { requireTestbed } from '../../harness/testing/testbed.ts';

const bed = await requireTestbed();
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'testbed.ts');

describe.runIf(bed)('the test bed', () => {
  test('status --json: engine, emulator and registry are up', async () => {
    const r = await runCommand(process.execPath, [script, 'status', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { up: boolean; binfmt: { enabled: boolean; flags: string }; registry: { answers: boolean } };
    expect(s).toMatchObject({ up: true, binfmt: { enabled: true }, registry: { answers: true } });
    expect(s.binfmt.flags).toContain('F');
  });

  test('a second up only checks: nothing is installed, built or pushed again', async () => {
    const r = await runCommand(process.execPath, [script, 'up'], { timeoutMs: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/installing|building|pushing|starting|apt-get download|npm pack/);
  });

  test('the registry serves the probe image as one index with amd64 and arm64 entries', async () => {
    const ref = bed!.images['meshcheck-test/probe']!.ref;
    const [host, rest] = [ref.slice(0, ref.indexOf('/')), ref.slice(ref.indexOf('/') + 1)];
    const [name, tag] = rest.split(':') as [string, string];
    const res = await request(`http://${host}/v2/${name}/manifests/${tag}`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json' },
    });
    expect(res.statusCode).toBe(200);
    const index = (await res.body.json()) as { manifests: Array<{ platform: { os: string; architecture: string } }> };
    expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual(['linux/amd64', 'linux/arm64']);
  });

  test('images are arm64 inside: the arm64 variant runs busybox for aarch64 (through QEMU)', async () => {
    const ref = bed!.images['meshcheck-test/probe']!.ref;
    const r = await runCommand('docker', ['run', '--rm', '--label', 'meshcheck.testbed=true', '--platform', 'linux/arm64', ref, 'uname', '-m']);
    expect(r.stdout.trim()).toBe('aarch64');
  });
});
