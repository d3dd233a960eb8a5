/**
 * Pinning by platform digest against the test bed's real registry, and the reason it works: the Docker engine
 * pulls and runs a foreign-arch single-platform manifest referenced by digest (here an arm64 image on an amd64
 * host, through QEMU binfmt) — the mechanism hybrid mode uses for the mesh's images.
 */
import { describe, expect, it } from 'vitest';
import { runCommand } from '../process/run.ts';
import { requireTestbed } from '../testing/testbed.ts';
import { RegistryClient } from './client.ts';
import { imagePlatforms, MissingPlatformError, pinToPlatform } from './pin.ts';

const bed = await requireTestbed();

describe.runIf(bed)('pinning images to a platform digest', () => {
  const echo = bed!.images['meshcheck/echo']!.ref;
  const amd64Only = bed!.images['meshcheck-test/amd64-only']!.ref;

  it('resolves the arm64 manifest of a multi-arch index, and refuses a platform the image lacks', async () => {
    await using client = new RegistryClient({ insecureHosts: [bed!.registry.addr] });
    const pinned = await pinToPlatform(client, echo, 'linux/arm64');
    expect(pinned.pinned).toMatch(new RegExp(`^${bed!.registry.addr.replaceAll('.', '\\.')}/meshcheck/echo@sha256:[0-9a-f]{64}$`));
    expect(pinned.available).toEqual(['linux/amd64', 'linux/arm64']);
    const amd = await pinToPlatform(client, echo, 'linux/amd64');
    expect(amd.digest).not.toBe(pinned.digest);
    const err = await pinToPlatform(client, amd64Only, 'linux/arm64').catch((e) => e);
    expect(err).toBeInstanceOf(MissingPlatformError);
    expect(err.message).toBe(`${amd64Only} has no linux/arm64 image (it offers linux/amd64)`);
    expect(await imagePlatforms(client, amd64Only)).toEqual(['linux/amd64']);
  });

  it('the engine runs the pinned arm64 digest on this amd64 host (binfmt), with no --platform', async () => {
    await using client = new RegistryClient({ insecureHosts: [bed!.registry.addr] });
    const pinned = await pinToPlatform(client, echo, 'linux/arm64');
    const pull = await runCommand('docker', ['pull', pinned.pinned], { timeoutMs: 120_000 });
    expect(pull.ok).toBe(true);
    const inspect = await runCommand('docker', ['image', 'inspect', '--format', '{{.Architecture}}', pinned.pinned]);
    expect(inspect.stdout.trim()).toBe('arm64');
    await runCommand('docker', ['rmi', '-f', pinned.pinned]);
  });
});
