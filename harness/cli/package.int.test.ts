/**
 * meshcheck installed as a package (no TypeScript sources, only dist/) runs: Node does not strip types under
 * node_modules, so this is the proof that the built JavaScript is complete.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { runChecked, runCommand } from '../process/run.ts';
import { requireTestbed } from '../testing/testbed.ts';

const bed = await requireTestbed();
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe.runIf(bed)('meshcheck as an installed package', () => {
  let dir: string | undefined;
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  test('npm pack → npm install → node_modules/.bin/meshcheck runs from dist/', { timeout: 300_000 }, async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshcheck-pkg-'));
    await runChecked('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: repo, timeoutMs: 120_000 });
    const tgz = (await readdir(dir)).find((f) => f.endsWith('.tgz'))!;
    const app = path.join(dir, 'app');
    await mkdir(app);
    await writeFile(path.join(app, 'package.json'), '{"name":"app","private":true}\n');
    await runChecked('npm', ['install', '--no-audit', '--no-fund', path.join(dir, tgz)], { cwd: app, timeoutMs: 240_000 });
    const installed = await readdir(path.join(app, 'node_modules/meshcheck'));
    expect(installed).not.toContain('harness'); // no sources: this really runs dist/
    const meshcheck = path.join(app, 'node_modules/.bin/meshcheck');
    const help = await runCommand(meshcheck, ['doctor', '--help']);
    expect(help.exitCode, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/Usage: meshcheck doctor/);
    const doctor = await runCommand(meshcheck, ['doctor', '--json']);
    expect(doctor.exitCode, doctor.stderr).toBe(0);
    expect(JSON.parse(doctor.stdout).host.platform).toBe('linux/amd64');
  });
});
