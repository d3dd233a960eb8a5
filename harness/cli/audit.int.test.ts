import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { auditReportSchema } from '../audit/report.ts';
import { runCommand } from '../process/run.ts';
import { type FileSpec, pushImage, pushIndex } from '../testing/oci-builder.ts';
import { requireTestbed } from '../testing/testbed.ts';

const bed = await requireTestbed();
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/meshcheck.js');
const meshcheck = (args: string[], input?: string) =>
  runCommand(process.execPath, [bin, ...args], { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });

describe.runIf(bed)('meshcheck audit (CLI) on the test bed', () => {
  const reg = bed?.registry.addr ?? '';
  const probe = bed?.images['meshcheck-test/probe']?.ref ?? '';
  const amd64Only = bed?.images['meshcheck-test/amd64-only']?.ref ?? '';
  let dir: string;
  let yamlFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshcheck-audit-'));
    yamlFile = path.join(dir, 'deploy.yaml');
    await writeFile(
      yamlFile,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: echo, namespace: demo}',
        'spec:',
        '  template:',
        '    spec:',
        `      initContainers: [{name: init, image: "${amd64Only}"}]`,
        `      containers: [{name: echo, image: "${probe}"}]`,
        '---',
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: debug}',
        `spec: {containers: [{name: c, image: "${probe}"}]}`,
        '',
      ].join('\n'),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('--from YAML --json: a schema-valid report; every image once, with every place it was named', async () => {
    const r = await meshcheck(['audit', '--insecure-registry', reg, '--from', yamlFile, '--deep', '--json']);
    expect(r.exitCode, r.stderr).toBe(1); // amd64-only has no arm64 entry
    const report = auditReportSchema.parse(JSON.parse(r.stdout));
    expect(report.images.map((i) => i.image).sort()).toEqual([amd64Only, probe].sort());
    const probeEntry = report.images.find((i) => i.image === probe)!;
    expect(probeEntry.from).toHaveLength(2);
    expect(probeEntry.platforms.map((p) => p.verdict)).toEqual(['ok', 'ok']);
    expect(report.images.find((i) => i.image === amd64Only)!.platforms.map((p) => p.verdict)).toEqual(['ok', 'missing-platform']);
    expect(r.stderr).toMatch(/\[2\/2\]/); // progress goes to stderr, never into the JSON
  });

  test('--from - reads stdin; all ok exits 0 with a table', async () => {
    const r = await meshcheck(['audit', '--insecure-registry', reg, '--from', '-'], `kind: Pod\nspec: {containers: [{name: c, image: "${probe}"}]}\n`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^IMAGE +PLATFORM +VERDICT +REASON$/m);
    expect(r.stdout).toMatch(/1 image\(s\) × 2 platform\(s\): 2 ok/);
  });

  test('exit 3 when nothing could be checked; exit 2 on usage errors; a missing --from file is named', async () => {
    const down = await meshcheck(['audit', '127.0.0.1:1/x/y:1']);
    expect(down.exitCode).toBe(3);
    expect(down.stderr).toMatch(/nothing could be checked/);
    expect((await meshcheck(['audit', '--allow', 'bogus', probe])).exitCode).toBe(2);
    expect((await meshcheck(['audit', '--concurrency', '0', probe])).exitCode).toBe(2);
    const missing = await meshcheck(['audit', '--insecure-registry', reg, '--from', path.join(dir, 'nope.yaml'), probe, '--json']);
    expect(missing.exitCode).toBe(1);
    expect(JSON.parse(missing.stdout).problems[0]).toMatchObject({ message: 'cannot read: ENOENT' });
  });

  test('--istio VERSION --hub HUB audits the images that version deploys (here: stand-ins pushed under a test hub)', async () => {
    // Not Istio's binaries (none can be had here): busybox images under Istio's names, so only the naming and the
    // wiring are under test. pilot has both platforms; proxyv2 is amd64-only.
    const files = (arch: string): FileSpec[] => [{ path: 'bin/busybox', hostFile: bed!.binaries[`busybox-${arch}`]!, mode: 0o755 }];
    const push = (repo: string, arch: string) => pushImage(reg, repo, undefined, { architecture: arch, entrypoint: ['/bin/busybox'], layers: [{ files: files(arch) }] });
    const amd = await push('istio-test/pilot', 'amd64');
    const arm = await push('istio-test/pilot', 'arm64');
    await pushIndex(reg, 'istio-test/pilot', '1.28.0', [
      { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
      { ...arm, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    const proxy = await push('istio-test/proxyv2', 'amd64');
    await pushIndex(reg, 'istio-test/proxyv2', '1.28.0', [{ ...proxy, platform: { os: 'linux', architecture: 'amd64' } }]);
    const r = await meshcheck(['audit', '--istio', '1.28.0', '--hub', `${reg}/istio-test`, '--insecure-registry', reg, '--deep', '--json']);
    expect(r.exitCode, r.stderr).toBe(1);
    const report = auditReportSchema.parse(JSON.parse(r.stdout));
    const byImage = Object.fromEntries(report.images.map((i) => [i.image, i.platforms.map((p) => p.verdict)]));
    expect(byImage).toEqual({ [`${reg}/istio-test/pilot:1.28.0`]: ['ok', 'ok'], [`${reg}/istio-test/proxyv2:1.28.0`]: ['ok', 'missing-platform'] });
    expect(report.images[0]!.from.join(' ')).toMatch(/istio 1\.28\.0/i);
    expect((await meshcheck(['audit', '--hub', 'x/y'])).exitCode).toBe(2);
  });

  test('plain HTTP is refused unless the registry is listed as insecure', async () => {
    const r = await meshcheck(['audit', probe, '--json']);
    expect(r.exitCode).toBe(3);
    expect(JSON.parse(r.stdout).images[0].platforms[0]).toMatchObject({
      verdict: 'unreachable',
      reason: expect.stringContaining(`list it with --insecure-registry ${reg}`),
    });
  });
});
