/** `meshcheck run`: every cell of the matrix — preflight, cluster, mesh, suites, crash verdict, report. */
import path from 'node:path';
import { Command } from 'commander';
import type { Context } from '../../context.ts';
import { UsageError } from '../../errors.ts';
import { newRunId } from '../../labels.ts';
import { meshcheckVersion } from '../../version.ts';
import { clusterStateDir } from './cluster.ts';
import { collect } from './shared.ts';

interface RunFlags {
  config?: string;
  istioVersion?: string;
  arch?: string;
  mode?: string;
  suites?: string;
  echoImage?: string;
  insecureRegistry?: string[];
  reportsDir?: string;
  kind?: string;
  istioctl?: string;
  keep?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

const list = (v?: string) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

export function runCommand(ctx: Context): Command {
  return new Command('run')
    .description('run the matrix: doctor, audit, smoke, latency, then per cell cluster up, mesh install, suites, crash verdict, report')
    .option('--config <file>', 'the config file (default: meshcheck.config.ts in this directory, else the defaults)')
    .option('--istio-version <list>', 'Istio versions, comma-separated (overrides the config)')
    .option('--arch <list>', 'only the cells of these architectures (amd64, arm64)')
    .option('--mode <list>', 'only the cells of these modes (native, emulated, hybrid)')
    .option('--suites <list>', 'suites: traffic, mtls, retry, ingress, crash, latency')
    .option('--echo-image <ref>', 'the echo workload image')
    .option('--insecure-registry <host>', 'plain HTTP to this registry; repeatable', collect)
    .option('--reports-dir <dir>', 'where reports go (default: the config’s reportsDir)')
    .option('--kind <path>', 'the kind binary (default: kind on PATH)')
    .option('--istioctl <path>', 'the istioctl binary (default: istioctl on PATH)')
    .option('--keep', 'keep clusters afterwards (prints their kubeconfig)')
    .option('--dry-run', 'print the whole plan of every cell; run nothing')
    .option('--json', 'print the run report as JSON')
    .addHelpText(
      'after',
      `
Values resolve as: command-line flag > config file > default.
Cells that cannot run on this host (native arm64 on an amd64 machine) are skipped with the reason; cells whose
tools are missing (kind, istioctl) end as infra-error naming what to install.

Examples:
  meshcheck run --dry-run
  meshcheck run --mode hybrid --arch arm64 --suites traffic,mtls`,
    )
    .action(async (flags: RunFlags) => {
      const [{ loadConfig, applyOverrides }, { planRun }, { probeHost }, { findOnPath }] = await Promise.all([
        import('../../config/load.ts'),
        import('../../run/plan.ts'),
        import('../../arch/host.ts'),
        import('../../process/tools.ts'),
      ]);
      const loaded = await loadConfig(ctx.cwd, flags.config);
      const config = applyOverrides(loaded.config, {
        ...(list(flags.istioVersion) ? { istioVersions: list(flags.istioVersion) } : {}),
        ...(list(flags.arch) ? { arch: list(flags.arch) } : {}),
        ...(list(flags.mode) ? { mode: list(flags.mode) } : {}),
        ...(list(flags.suites) ? { suites: list(flags.suites) } : {}),
        ...(flags.echoImage ? { echoImage: flags.echoImage } : {}),
        ...(flags.insecureRegistry ? { insecureRegistries: flags.insecureRegistry } : {}),
      });
      if (flags.reportsDir) config.reportsDir = flags.reportsDir;
      const facts = await probeHost();
      if (facts.arch !== 'amd64' && facts.arch !== 'arm64') throw new UsageError(`meshcheck runs on amd64 or arm64 hosts, not ${facts.arch}`);
      const runId = newRunId(ctx.now());
      // Each tool is looked up once; a missing one is named by the plan (the cells that need it end as infra-error).
      const [kind, istioctl, docker] = await Promise.all([flags.kind ?? findOnPath('kind', ctx.env), flags.istioctl ?? findOnPath('istioctl', ctx.env), findOnPath('docker', ctx.env)]);
      // Foreign-arch cells need to know whether the emulator can carry sidecar traffic capture (doctor's probe).
      let emulatorCapturesTraffic: boolean | undefined;
      const foreign = [...new Set(config.cells.map((c) => c.arch).filter((a) => a !== facts.arch))];
      if (foreign.length) {
        const { probeCapabilities } = await import('../../arch/capabilities.ts');
        const reports = await Promise.all(foreign.map((a) => probeCapabilities(a, { env: ctx.env }).catch(() => undefined)));
        // Unknown (probe missing or failed) stays undefined: capture-dependent checks are then skipped, never guessed.
        if (reports.every((r) => r && !r.problem)) emulatorCapturesTraffic = reports.every((r) => r?.canCaptureTraffic);
      }
      const host = {
        ...(emulatorCapturesTraffic !== undefined ? { emulatorCapturesTraffic } : {}),
        arch: facts.arch as 'amd64' | 'arm64',
        ...(kind ? { kind } : {}),
        ...(istioctl ? { istioctl } : {}),
        ...(docker ? { docker } : {}),
        stateDir: clusterStateDir(ctx.env),
        runId,
      };
      const plans = planRun(config, host);
      const header = `meshcheck run ${runId}: ${loaded.file ? `config ${loaded.file}` : 'default config'}; host ${host.arch}; kind ${host.kind ?? 'missing'}; istioctl ${host.istioctl ?? 'missing'}`;
      if (flags.dryRun) {
        const { renderRunPlan } = await import('../../run/render-plan.ts');
        ctx.io.out(flags.json ? `${JSON.stringify({ header, cells: plans }, null, 2)}\n` : renderRunPlan(plans, header));
        return;
      }
      const [{ executeRun, renderRunSummary }, { runClusterCell }, { runCli }] = await Promise.all([import('../../run/run.ts'), import('../../run/cluster-cell.ts'), import('../main.ts')]);
      const reportFile = path.resolve(ctx.cwd, config.reportsDir, `run-${runId}.json`);
      ctx.io.err(`${header}\n`);
      const report = await executeRun(ctx, config, host, plans, {
        cli: async (args) => {
          let stdout = '';
          let stderr = '';
          const exitCode = await runCli(args, { ...ctx, io: { out: (t) => void (stdout += t), err: (t) => void (stderr += t), isTTY: false } });
          return { exitCode, stdout, stderr };
        },
        clusterCell: (plan) => runClusterCell(plan, config, host, { keep: Boolean(flags.keep), log: (l) => ctx.io.err(`${l}\n`), signal: ctx.signal, env: ctx.env }),
      }, { meshcheckVersion: meshcheckVersion(), ...(loaded.file ? { configFile: loaded.file } : {}), reportFile });
      ctx.io.out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderRunSummary(report, reportFile));
      // JUnit beside the report; in GitHub Actions also the job summary, outputs and annotations.
      const [{ mergeReports }, { writeViews }] = await Promise.all([import('../../../reports/merge.ts'), import('./reports.ts')]);
      const matrix = mergeReports([{ kind: 'run', file: reportFile, report: report as never }], ctx.now());
      await writeViews(ctx, matrix, { junit: reportFile.replace(/\.json$/, '.junit.xml'), html: reportFile.replace(/\.json$/, '.html'), github: Boolean(ctx.env.GITHUB_ACTIONS), reportFile });
      const { MeshcheckError } = await import('../../errors.ts');
      if (report.status === 'fail') throw new MeshcheckError('the run failed: see the cells above', { category: 'check-failed' });
      if (report.status === 'infra-error') throw new MeshcheckError('some cells could not run: see the reasons above', { category: 'infrastructure', fix: 'install what the cells name (kind, istioctl), or run with --arch/--mode to pick cells this host can run' });
      if (report.status === 'interrupted') throw new MeshcheckError(`interrupted; the report of what ran is in ${reportFile}`, { category: 'infrastructure' });
    });
}
