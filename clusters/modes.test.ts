import { describe, expect, it } from 'vitest';
import { UsageError } from '../harness/errors.ts';
import { planMode } from './modes.ts';

describe('cluster modes', () => {
  it('native runs the host’s architecture and refuses a foreign one with the fix', () => {
    expect(planMode({ mode: 'native', hostArch: 'arm64', arch: 'arm64' })).toMatchObject({ nodeArch: 'arm64', timeoutFactor: 1, nativeSidecars: true });
    expect(() => planMode({ mode: 'native', hostArch: 'amd64', arch: 'arm64' })).toThrow(UsageError);
  });

  it('emulated pins the node image to the foreign arch, scales timeouts, retries create, and skips capture checks without the socket options', () => {
    const p = planMode({ mode: 'emulated', hostArch: 'amd64', arch: 'arm64', calibrationFactor: 2.8, emulatorCapturesTraffic: false });
    expect(p).toMatchObject({ nodeArch: 'arm64', pinNodeImageTo: 'arm64', timeoutFactor: 5.6, createRetries: 3 });
    expect(p.skipCaptureReason).toMatch(/IP_TRANSPARENT/);
    expect(planMode({ mode: 'emulated', hostArch: 'amd64', arch: 'arm64', emulatorCapturesTraffic: true }).skipCaptureReason).toBeUndefined();
  });

  it('hybrid keeps native nodes and sidecars, pins the mesh images, unless the emulator can carry capture', () => {
    expect(planMode({ mode: 'hybrid', hostArch: 'amd64', arch: 'arm64', calibrationFactor: 3 })).toMatchObject({ nodeArch: 'amd64', pinMeshImagesTo: 'arm64', nativeSidecars: true, timeoutFactor: 3 });
    expect(planMode({ mode: 'hybrid', hostArch: 'amd64', arch: 'arm64', emulatorCapturesTraffic: true }).nativeSidecars).toBe(false);
    expect(() => planMode({ mode: 'hybrid', hostArch: 'arm64', arch: 'arm64' })).toThrow(/nothing would be emulated/);
  });
});
