import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseBinfmtEntry } from '../arch/binfmt.ts';
import type { HostFacts } from '../arch/host.ts';
import { assessDoctor, type DoctorFacts } from './assess.ts';

const aarch64 = readFileSync(new URL('../arch/fixtures/binfmt-qemu-aarch64.txt', import.meta.url), 'utf8');

function facts(host: Partial<HostFacts>, more: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    host: { arch: 'amd64', kernel: '6.1.0', pageSize: 4096, binfmt: { mounted: true, enabled: true, handlers: [] }, ...host },
    qemu: [],
    docker: { reachable: true, serverVersion: '20.10.24', os: 'linux', arch: 'amd64' },
    tools: [],
    meshcheckVersion: '0.0.0-test',
    now: new Date('2026-11-22T00:00:00Z'),
    ...more,
  };
}

const reach = (r: ReturnType<typeof assessDoctor>, p: string) => r.platforms.find((x) => x.platform === p)!;

describe('doctor assessment', () => {
  test('amd64 host with the F-flagged qemu-aarch64 handler: arm64 runs, in containers too, and wrong-arch images run silently', () => {
    const r = assessDoctor(facts({ binfmt: { mounted: true, enabled: true, handlers: [parseBinfmtEntry('qemu-aarch64', aarch64)] } }));
    expect(reach(r, 'linux/amd64')).toMatchObject({ runnable: true, how: 'native', wrongArchRunsSilently: false });
    expect(reach(r, 'linux/arm64')).toMatchObject({ runnable: true, how: 'emulated', flags: 'PF', inContainers: true, wrongArchRunsSilently: true });
    expect(r.problems.filter((p) => p.severity !== 'info')).toEqual([]);
  });

  test('handler disabled: arm64 is not runnable, and the fix says how to enable it', () => {
    const off = parseBinfmtEntry('qemu-aarch64', aarch64.replace(/^enabled/, 'disabled'));
    const r = assessDoctor(facts({ binfmt: { mounted: true, enabled: true, handlers: [off] } }));
    expect(reach(r, 'linux/arm64')).toMatchObject({ runnable: false, how: 'none' });
    expect(reach(r, 'linux/arm64').fix).toBe('enable it: echo 1 > /proc/sys/fs/binfmt_misc/qemu-aarch64');
    expect(r.problems.some((p) => p.message.startsWith('linux/arm64 cannot run'))).toBe(true);
  });

  test('no binfmt_misc at all: the fix is installing QEMU', () => {
    const r = assessDoctor(facts({ binfmt: { mounted: false, enabled: false, handlers: [] } }));
    expect(reach(r, 'linux/arm64').note).toMatch(/not mounted/);
    expect(reach(r, 'linux/arm64').fix).toMatch(/qemu-user-static/);
  });

  test('a handler without F runs on the host but not in containers', () => {
    const noF = parseBinfmtEntry('qemu-aarch64', aarch64.replace('flags: PF', 'flags: P'));
    const r = assessDoctor(facts({ binfmt: { mounted: true, enabled: true, handlers: [noF] } }));
    expect(reach(r, 'linux/arm64')).toMatchObject({ runnable: true, inContainers: false });
    expect(r.problems.find((p) => p.message.startsWith('linux/arm64'))?.fix).toMatch(/F flag/);
  });

  test('arm64 host with 64 KiB pages warns about 4 KiB-aligned binaries; amd64 is then the foreign arch', () => {
    const r = assessDoctor(facts({ arch: 'arm64', pageSize: 65536 }));
    expect(reach(r, 'linux/arm64').how).toBe('native');
    expect(reach(r, 'linux/amd64').runnable).toBe(false);
    expect(r.problems.some((p) => /64 KiB pages/.test(p.message))).toBe(true);
  });

  test('no Docker engine is an error with a fix; missing cluster tools are info', () => {
    const r = assessDoctor(
      facts(
        {},
        {
          docker: { reachable: false, problem: 'no Docker engine answers' },
          tools: [{ name: 'kind', found: false, purpose: 'clusters', neededFor: 'cluster', fix: 'install kind' }],
        },
      ),
    );
    expect(r.problems).toContainEqual(expect.objectContaining({ severity: 'error', message: 'Docker: no Docker engine answers' }));
    expect(r.problems).toContainEqual(expect.objectContaining({ severity: 'info', fix: 'install kind' }));
  });
});
