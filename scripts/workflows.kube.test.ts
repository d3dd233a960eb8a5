/**
 * The project's GitHub workflows and composite action, linted with the real actionlint (v1.7.12, obtained by the
 * control plane's fetch like the other test programs). actionlint also checks the inputs each `uses: ./` step
 * passes against action.yml. The same lint must fail on a broken workflow, so the check can fail.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../harness/process/run.ts';
import { requireControlPlane } from '../harness/testing/control-plane.ts';

const cp = await requireControlPlane();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe.runIf(cp)('GitHub workflows', () => {
  it('are actionlint-clean (conformance, release-gate, and the inputs of the composite action)', async () => {
    const r = await runCommand(cp!.binaries.actionlint, ['-color=false'], { cwd: root });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('actionlint rejects a workflow that passes an input the action does not have', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mc-wf-'));
    await runCommand('cp', ['-r', path.join(root, 'action.yml'), path.join(root, '.github'), dir]);
    // actionlint finds local actions (uses: ./) relative to the repository root, which it finds by .git.
    await runCommand('git', ['init', '-q', dir]);
    const wf = path.join(dir, '.github/workflows/conformance.yml');
    await writeFile(wf, (await readFile(wf, 'utf8')).replace('echo-image: ${{ needs.echo-image.outputs.image }}', 'echo-imag: x'));
    const r = await runCommand(cp!.binaries.actionlint, ['-color=false', '.github/workflows/conformance.yml'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/input "echo-imag" is not defined in action/);
    expect(r.stdout).toMatch(/missing input "echo-image" which is required by action/);
  });

  it('the matrix covers amd64 native, arm64 native, arm64 emulated and arm64 hybrid; the action declares what it reads', async () => {
    const wf = parse(await readFile(path.join(root, '.github/workflows/conformance.yml'), 'utf8'));
    expect(wf.jobs.cell.strategy.matrix.include).toEqual([
      { runner: 'ubuntu-24.04', arch: 'amd64', mode: 'native' },
      { runner: 'ubuntu-24.04-arm', arch: 'arm64', mode: 'native' },
      { runner: 'ubuntu-24.04', arch: 'arm64', mode: 'emulated' },
      { runner: 'ubuntu-24.04', arch: 'arm64', mode: 'hybrid' },
    ]);
    const action = parse(await readFile(path.join(root, 'action.yml'), 'utf8'));
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs)).toEqual(['arch', 'mode', 'istio-version', 'suites', 'echo-image', 'config', 'kind-version']);
    for (const step of action.runs.steps) if (step.run) expect(step.shell, step.name).toBe('bash');
  });
});
