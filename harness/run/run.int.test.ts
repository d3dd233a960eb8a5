/**
 * `meshcheck run` on a machine without kind: everything that can run without a cluster runs for real (doctor,
 * audit of the mesh's images in the test bed's registry, latency of the echo workload on the Docker target,
 * native and under QEMU), and each cluster cell then ends as infra-error naming what is missing — exit 3, never a
 * stack trace. The report is written atomically and says all of it.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { type FileSpec, pushImage, pushIndex } from '../testing/oci-builder.ts';
import { requireTestbed } from '../testing/testbed.ts';
import { runReportSchema } from '../../reports/schema.ts';
import type { RunReport } from './run.ts';

const bed = await requireTestbed();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/meshcheck.js');

describe.runIf(bed)('meshcheck run without kind', () => {
  it('runs doctor, audit and latency, then ends the cluster cells with what is missing', { timeout: 300_000 }, async () => {
    const reg = bed!.registry.addr;
    // Stand-ins under Istio's image names (Istio's images cannot be had here): busybox for both platforms.
    const files = (arch: string): FileSpec[] => [{ path: 'bin/busybox', hostFile: bed!.binaries[`busybox-${arch}`]!, mode: 0o755 }];
    for (const name of ['pilot', 'proxyv2']) {
      const amd = await pushImage(reg, `run-test/${name}`, undefined, { architecture: 'amd64', entrypoint: ['/bin/busybox'], layers: [{ files: files('amd64') }] });
      const arm = await pushImage(reg, `run-test/${name}`, undefined, { architecture: 'arm64', entrypoint: ['/bin/busybox'], layers: [{ files: files('arm64') }] });
      await pushIndex(reg, `run-test/${name}`, '1.27.0', [
        { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
        { ...arm, platform: { os: 'linux', architecture: 'arm64' } },
      ]);
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mc-run-'));
    await writeFile(
      path.join(dir, 'meshcheck.config.ts'),
      `import { defineConfig } from '${path.join(root, 'harness/config/define.ts')}';
export default defineConfig({
  mesh: { versions: ['1.27.0'], hub: '${reg}/run-test' },
  cells: [{ arch: 'amd64', mode: 'native' }, { arch: 'arm64', mode: 'hybrid' }, { arch: 'arm64', mode: 'native' }],
  suites: ['traffic', 'crash'],
  images: { echo: '${bed!.images['meshcheck/echo']!.ref}' },
  insecureRegistries: ['${reg}'],
  preflight: { smoke: 'never', latency: { rates: [50], durationMs: 1500, reps: 1 } },
  reportsDir: '${path.join(dir, 'reports')}',
});
`,
    );
    // PATH without kind or istioctl.
    const r = await execa(process.execPath, [bin, 'run'], { cwd: dir, reject: false, env: { MESHCHECK_FROM_SOURCE: '1', PATH: '/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' } });
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    // Latency can be judged not valid on a loaded machine (the generator fell behind): then the run fails (exit 1)
    // instead of being an infrastructure error (exit 3). Either way every stage ran and said so.
    expect([1, 3]).toContain(r.exitCode);
    expect(r.stdout).toMatch(/^meshcheck run \S+: (INFRA-ERROR|FAIL)$/m);
    expect(r.stdout).toMatch(/cell kind-amd64-native-istio-1\.27\.0 +infra-error — the cluster stages cannot run here: kind is not installed here/);
    expect(r.stdout).toMatch(/cell kind-arm64-native-istio-1\.27\.0 +skipped — not runnable on this host: mode native tests arm64 but this host is amd64/);
    expect(r.stderr).toMatch(r.exitCode === 3 ? /fix: install what the cells name \(kind, istioctl\)/ : /the run failed/);
    const file = r.stdout.match(/^report: (.+)$/m)?.[1];
    const report = JSON.parse(await readFile(file!, 'utf8')) as RunReport;
    const pre = Object.values(report.preflight);
    expect(pre.map((p) => p.stage).sort()).toEqual(['audit', 'audit', 'doctor', 'doctor', 'latency', 'latency']);
    expect(pre.filter((p) => p.stage !== 'latency').every((p) => p.status === 'ok')).toBe(true);
    for (const l of pre.filter((p) => p.stage === 'latency')) expect(l.status === 'ok' || l.message?.includes('not valid')).toBe(true);
    const audits = pre.filter((p) => p.stage === 'audit').map((p) => p.report as { images: { image: string; platforms: { platform: string; verdict: string }[] }[] });
    expect(audits.flatMap((a) => a.images.flatMap((i) => i.platforms.map((p) => p.verdict)))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    const latency = pre.find((p) => p.stage === 'latency' && JSON.stringify(p.report).includes('linux/arm64'))?.report as { results?: unknown[] } | undefined;
    expect(latency).toBeDefined();
    expect(report.cells.map((c) => c.status)).toEqual(['infra-error', 'infra-error', 'skipped']);
    expect(report.status).toBe(r.exitCode === 3 ? 'infra-error' : 'fail');
    expect(report.finishedAt).toBeDefined();
    // The report of a real run is schema-valid, renders, merges and is gated.
    expect(runReportSchema.safeParse(report).success).toBe(true);
    const junit = await readFile(file!.replace(/\.json$/, '.junit.xml'), 'utf8');
    expect(junit).toContain('<testsuite name="kind-amd64-native-istio-1.27.0"');
    expect(await readFile(file!.replace(/\.json$/, '.html'), 'utf8')).toContain('<h1>meshcheck');
    const cli = (args: string[]) => execa(process.execPath, [bin, ...args], { cwd: dir, reject: false, env: { MESHCHECK_FROM_SOURCE: '1' } });
    const merged = await cli(['merge', file!, path.join(dir, 'nope.json'), '-o', path.join(dir, 'matrix.json')]);
    expect(merged.exitCode).toBe(2);
    expect(merged.stderr).toMatch(/nope\.json: no such file/);
    expect(merged.stdout).toMatch(/merged 1 run\(s\), 3 cell\(s\)/);
    const md = await cli(['report', path.join(dir, 'matrix.json'), '--markdown', path.join(dir, 'summary.md')]);
    expect(md.exitCode, md.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'summary.md'), 'utf8')).toMatch(/\| linux\/arm64 \| emulated \| 50 \|/);
    const gate = await cli(['gate', path.join(dir, 'matrix.json')]);
    expect(gate.exitCode).toBe(1);
    expect(gate.stdout).toMatch(/^release gate: FAIL$/m);
    expect(gate.stdout).toMatch(/FAIL infra-error: kind-amd64-native-istio-1\.27\.0: the cluster stages cannot run here/);
  });

  it('--dry-run prints the whole plan for every cell of the default config', async () => {
    const r = await execa(process.execPath, [bin, 'run', '--dry-run'], { cwd: root, reject: false, env: { MESHCHECK_FROM_SOURCE: '1' } });
    expect(r.exitCode, r.stderr).toBe(0);
    const cells = [...r.stdout.matchAll(/^## cell (\S+)$/gm)].map((m) => m[1]);
    expect(cells).toEqual(['kind-amd64-native-istio-1.27.0', 'kind-arm64-native-istio-1.27.0', 'kind-arm64-emulated-istio-1.27.0', 'kind-arm64-hybrid-istio-1.27.0']);
    for (const stage of ['doctor', 'audit', 'smoke', 'latency', 'cluster-up', 'mesh-install', 'crash-guard', 'checks', 'collect', 'teardown', 'report']) {
      expect(r.stdout.match(new RegExp(`^# \\d+\\. ${stage}:`, 'gm'))?.length, stage).toBe(4);
    }
    expect(r.stdout).toMatch(/kind create cluster --name meshcheck-\S+-arm64-hybrid/);
    expect(r.stdout).toMatch(/--set profile=default --set 'values\.pilot\.image=docker\.io\/istio\/pilot@sha256:<linux\/arm64 digest>'/);
    expect(r.stdout).toMatch(/resolve the linux\/arm64 manifest digest of kindest\/node:v1\.33\.12@sha256:/);
    expect(r.stdout).toMatch(/\| apiVersion: kind\.x-k8s\.io\/v1alpha4/);
  });

  it('a config with a bad key is named with the allowed values (exit 2)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mc-badcfg-'));
    await writeFile(path.join(dir, 'meshcheck.config.ts'), `export default { cells: [{ arch: 'riscv64', mode: 'native' }], suitez: [] };\n`);
    const r = await execa('node', [bin, 'run', '--dry-run'], { cwd: dir, reject: false, env: { MESHCHECK_FROM_SOURCE: '1' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/cells\[0\]\.arch: Invalid option: expected one of "amd64"\|"arm64"/);
    expect(r.stderr).toMatch(/Unrecognized key: "suitez"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
