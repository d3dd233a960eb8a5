/**
 * The runner's bookkeeping (the stages themselves run for real in run.int.test.ts): the report on disk is valid
 * after every stage and, until the run ends, says it did not finish and where it was; Ctrl-C ends the run with
 * what ran.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReportSchema } from '../../reports/schema.ts';
import { parseConfig } from '../config/schema.ts';
import type { Context } from '../context.ts';
import { planRun } from './plan.ts';
import { executeRun } from './run.ts';

function ctx(signal = new AbortController().signal): Context {
  return { io: { out: () => {}, err: () => {}, isTTY: false }, env: {}, cwd: '/', now: () => new Date('2026-11-22T08:00:00Z'), signal };
}

describe('executeRun', () => {
  const config = parseConfig({ cells: [{ arch: 'amd64', mode: 'native' }], suites: ['traffic'], preflight: { audit: false, latency: { enabled: false } } });
  const host = { arch: 'amd64' as const, stateDir: '/tmp/x', runId: 'r1', kind: '/usr/bin/kind', istioctl: '/usr/bin/istioctl' };

  it('a report read mid-run is valid and says where the run was', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'mc-runrep-')), 'run.json');
    let midRun: unknown;
    const report = await executeRun(ctx(), config, host, planRun(config, host), {
      cli: async () => ({ exitCode: 0, stdout: '{"ok":true}', stderr: '' }),
      clusterCell: async () => {
        midRun = JSON.parse(await readFile(file, 'utf8'));
        return { status: 'pass', stages: [], checks: [] };
      },
    }, { meshcheckVersion: 't', reportFile: file });
    expect(runReportSchema.parse(midRun)).toMatchObject({ status: 'interrupted', interruptedAt: 'kind-amd64-native-istio-1.27.0 after smoke' });
    expect(report).toMatchObject({ status: 'pass', finishedAt: '2026-11-22T08:00:00.000Z' });
    expect(report.interruptedAt).toBeUndefined();
    expect(runReportSchema.parse(JSON.parse(await readFile(file, 'utf8'))).status).toBe('pass');
  });

  it('Ctrl-C during the preflight: the run stops, the report says interrupted', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'mc-runrep-')), 'run.json');
    const ac = new AbortController();
    const report = await executeRun(ctx(ac.signal), config, host, planRun(config, host), {
      cli: async () => {
        ac.abort();
        return { exitCode: 3, stdout: '', stderr: 'meshcheck: interrupted\n' };
      },
      clusterCell: async () => {
        throw new Error('must not run');
      },
    }, { meshcheckVersion: 't', reportFile: file });
    expect(report.status).toBe('interrupted');
    expect(report.cells[0]?.status).toBe('interrupted');
    expect(runReportSchema.parse(JSON.parse(await readFile(file, 'utf8'))).interruptedAt).toBe('kind-amd64-native-istio-1.27.0');
  });
});
