/**
 * Executing a run plan. Preflight stages (doctor, audit, smoke, latency) are the CLI's own commands run
 * in-process with their --json output captured, each once per run however many cells share it. Cluster cells
 * then run end to end where the tools exist (kind, istioctl), and otherwise end with infra-error naming what is
 * missing and how to get it. Ctrl-C stops at the next stage boundary; the report of what ran is still written.
 */
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { Context } from '../context.ts';
import type { MeshcheckConfig } from '../config/schema.ts';
import type { CrashVerdict } from '../kube/crash-guard.ts';
import type { OracleResult } from '../../suites/oracles/evidence.ts';
import type { CellPlan, HostView, PlannedStage, StageName } from './plan.ts';

export type StageStatus = 'ok' | 'failed' | 'error' | 'skipped';
export type CellStatus = 'pass' | 'fail' | 'infra-error' | 'skipped' | 'interrupted';
export type CheckStatus = 'pass' | 'fail' | 'flaky' | 'infra-error' | 'skipped';

export interface StageResult {
  stage: StageName;
  status: StageStatus;
  durationMs: number;
  /** The stage's own JSON report (doctor, audit, smoke, latency), when it made one. */
  report?: unknown;
  message?: string;
  fix?: string;
  exitCode?: number;
}

export interface CheckResult {
  id: string;
  api: string;
  status: CheckStatus;
  reason: string;
  attempts: number;
  durationMs: number;
  evidence: OracleResult['evidence'];
  stats?: OracleResult['stats'];
}

export interface CellResult {
  id: string;
  cell?: { provider: string; arch: string; mode: string };
  istioVersion?: string;
  cluster?: { provider: string; nodeImage?: string };
  status: CellStatus;
  reason?: string;
  fix?: string;
  stages: StageResult[];
  checks: CheckResult[];
  crash?: CrashVerdict;
}

export interface RunReport {
  schema: 'meshcheck.run/v1';
  meshcheckVersion: string;
  runId: string;
  configFile: string | null;
  host: { arch: string; kernel?: string; runner?: string };
  startedAt: string;
  finishedAt?: string;
  /** Set when the run stopped early (Ctrl-C): the stage it was in. */
  interruptedAt?: string;
  preflight: Record<string, StageResult>;
  cells: CellResult[];
  status: 'pass' | 'fail' | 'infra-error' | 'interrupted';
}

export interface RunDeps {
  /** Runs a meshcheck CLI command in-process; returns exit code, stdout and stderr. */
  cli: (args: string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Runs one cluster cell end to end (kind, mesh, checks); only called when the tools exist. */
  clusterCell: (plan: CellPlan) => Promise<Omit<CellResult, 'id'>>;
}

const PREFLIGHT: ReadonlySet<StageName> = new Set(['doctor', 'audit', 'smoke', 'latency']);

function stageFromExit(stage: StageName, exitCode: number, stdout: string, stderr: string, durationMs: number): StageResult {
  let report: unknown;
  try {
    report = stdout.trim() ? JSON.parse(stdout) : undefined;
  } catch {
    report = undefined;
  }
  const status: StageStatus = exitCode === 0 ? 'ok' : exitCode === 1 ? 'failed' : 'error';
  const msg = stderr.split('\n').filter((l) => l.startsWith('meshcheck:') || l.startsWith('fix:'));
  const message = msg.find((l) => l.startsWith('meshcheck:'))?.slice('meshcheck: '.length);
  const fix = msg.find((l) => l.startsWith('fix:'))?.slice('fix: '.length);
  return { stage, status, durationMs, exitCode, ...(report !== undefined ? { report } : {}), ...(message ? { message } : {}), ...(fix ? { fix } : {}) };
}

export async function executeRun(ctx: Context, config: MeshcheckConfig, host: HostView, plans: readonly CellPlan[], deps: RunDeps, o: { meshcheckVersion: string; configFile?: string; reportFile: string }): Promise<RunReport> {
  const report: RunReport = {
    schema: 'meshcheck.run/v1',
    meshcheckVersion: o.meshcheckVersion,
    runId: host.runId,
    configFile: o.configFile ?? null,
    host: { arch: host.arch, kernel: (await import('node:os')).release(), ...(ctx.env.RUNNER_OS ? { runner: `${ctx.env.RUNNER_OS}/${ctx.env.RUNNER_ARCH ?? '?'} ${ctx.env.ImageOS ?? ''}`.trim() } : {}) },
    startedAt: ctx.now().toISOString(),
    preflight: {},
    cells: [],
    // Until the run ends, the report on disk says it did not finish and where it was: a run that is killed
    // leaves a valid partial report.
    status: 'interrupted',
    interruptedAt: 'preflight',
  };
  const save = () => {
    if (!report.finishedAt) {
      const cell = report.cells.at(-1);
      report.interruptedAt = cell ? `${cell.id}${cell.stages.at(-1) ? ` after ${cell.stages.at(-1)!.stage}` : ''}` : 'preflight';
    }
    return writeFileAtomic(o.reportFile, `${JSON.stringify(report, null, 2)}\n`);
  };
  const progress = (line: string) => ctx.io.err(`${line}\n`);

  const runPreflight = async (s: PlannedStage): Promise<StageResult> => {
    const cmd = s.commands[0];
    if (!cmd) return { stage: s.stage, status: 'skipped', durationMs: 0 };
    const key = cmd.args.join(' ');
    const prior = report.preflight[key];
    if (prior) return prior;
    progress(`[preflight] ${s.stage}: ${s.description}`);
    const started = performance.now();
    const r = await deps.cli(cmd.args);
    const result = stageFromExit(s.stage, r.exitCode, r.stdout, r.stderr, Math.round(performance.now() - started));
    report.preflight[key] = result;
    progress(`[preflight] ${s.stage}: ${result.status}${result.message ? ` — ${result.message}` : ''} (${(result.durationMs / 1000).toFixed(1)} s)`);
    await save();
    return result;
  };

  for (const plan of plans) {
    if (ctx.signal.aborted) break;
    const cell: CellResult = {
      id: plan.id,
      cell: { provider: plan.cell.provider, arch: plan.cell.arch, mode: plan.cell.mode },
      istioVersion: plan.istioVersion,
      cluster: { provider: plan.cell.provider, ...(plan.kindSpec ? { nodeImage: plan.kindSpec.nodeImage } : {}) },
      status: 'pass',
      stages: [],
      checks: [],
    };
    report.cells.push(cell);
    if (plan.notRunnable) {
      cell.status = 'skipped';
      cell.reason = `not runnable on this host: ${plan.notRunnable.reason}`;
      if (plan.notRunnable.fix) cell.fix = plan.notRunnable.fix;
      progress(`[${plan.id}] skipped: ${plan.notRunnable.reason}`);
      await save();
      continue;
    }
    for (const s of plan.stages.filter((x) => PREFLIGHT.has(x.stage))) {
      if (ctx.signal.aborted) break;
      cell.stages.push(s.skip ? { stage: s.stage, status: 'skipped', durationMs: 0, message: s.skip } : await runPreflight(s));
    }
    await save();
    if (ctx.signal.aborted) {
      cell.status = 'interrupted';
      break;
    }
    const missing = plan.stages.filter((s) => (s.stage === 'cluster-up' || s.stage === 'mesh-install') && s.skip);
    if (missing.length) {
      cell.status = 'infra-error';
      cell.reason = `the cluster stages cannot run here: ${missing.map((m) => m.skip).join('; ')}`;
      cell.fix = 'run this cell where kind and istioctl are installed (the project’s GitHub workflow does), or install them';
      for (const m of missing) cell.stages.push({ stage: m.stage, status: 'error', durationMs: 0, message: m.skip as string });
      progress(`[${plan.id}] ${cell.reason}`);
      await save();
      continue;
    }
    progress(`[${plan.id}] cluster cell: ${plan.stages.find((s) => s.stage === 'cluster-up')?.description}`);
    Object.assign(cell, await deps.clusterCell(plan));
    await save();
  }

  const pre = Object.values(report.preflight);
  report.status = 'pass';
  if (ctx.signal.aborted) {
    report.status = 'interrupted';
    report.interruptedAt = report.cells.at(-1)?.id ?? 'preflight';
  } else if (report.cells.some((c) => c.status === 'fail') || pre.some((p) => p.status === 'failed')) report.status = 'fail';
  else if (report.cells.some((c) => c.status === 'infra-error') || pre.some((p) => p.status === 'error')) report.status = 'infra-error';
  if (report.status !== 'interrupted') delete report.interruptedAt;
  report.finishedAt = ctx.now().toISOString();
  await save();
  return report;
}

export function renderRunSummary(r: RunReport, reportFile: string): string {
  const lines = [`meshcheck run ${r.runId}: ${r.status.toUpperCase()}`];
  for (const [cmd, s] of Object.entries(r.preflight)) lines.push(`  preflight ${s.stage.padEnd(8)} ${s.status.padEnd(7)} ${s.message ?? ''}`.trimEnd() + (s.status === 'ok' ? '' : `   (meshcheck ${cmd.split(' ').slice(0, 2).join(' ')} …)`));
  for (const c of r.cells) {
    lines.push(`  cell ${c.id.padEnd(40)} ${c.status}${c.reason ? ` — ${c.reason}` : ''}`);
    if (c.fix && c.status !== 'pass') lines.push(`       fix: ${c.fix}`);
    for (const k of c.checks) lines.push(`       ${k.status.padEnd(11)} ${k.id} [${k.api}] ${k.reason}`);
  }
  lines.push(`report: ${reportFile}`);
  return `${lines.join('\n')}\n`;
}
