/**
 * `meshcheck repro REPORT [--case ID] [--keep]`: bring a failing cell to this machine — same Istio version, arch
 * and mode (hybrid, else emulated, when this host's arch differs from the cell's and the cell was native) — run
 * only the failing checks' suites, keep the cluster, and print what to look at next.
 */
import path from 'node:path';
import { Command } from 'commander';
import type { Context } from '../../context.ts';
import { UsageError } from '../../errors.ts';
import { formatCommand } from '../../process/format.ts';

export interface ReproTarget {
  cellId: string;
  arch: string;
  mode: string;
  istioVersion: string;
  suites: string[];
  checks: string[];
  /** Why the mode differs from the cell's. */
  note?: string;
}

/** Pure: from the failing cells of a matrix to what to run here. */
export function reproTargets(
  cells: readonly { id: string; cell?: { arch: string; mode: string }; istioVersion?: string; status: string; checks: { id: string; status: string }[] }[],
  hostArch: string,
  caseId?: string,
): ReproTarget[] {
  const out: ReproTarget[] = [];
  for (const c of cells) {
    const failing = c.checks.filter((k) => ['fail', 'flaky', 'infra-error'].includes(k.status) && (!caseId || k.id === caseId));
    const cellFails = c.status === 'fail' || c.status === 'infra-error';
    if (caseId ? !failing.length && c.id !== caseId : !failing.length && !cellFails) continue;
    if (!c.cell || !c.istioVersion) continue;
    let mode = c.cell.mode;
    let note: string | undefined;
    if (c.cell.arch !== hostArch && mode === 'native') {
      mode = 'hybrid';
      note = `the cell ran native ${c.cell.arch}; this host is ${hostArch}, so it is reproduced in hybrid mode (the mesh's ${c.cell.arch} images under QEMU); use --mode emulated for ${c.cell.arch} nodes`;
    }
    if (c.cell.arch === hostArch && mode !== 'native') {
      mode = 'native';
      note = `this host is ${hostArch}: the cell is reproduced natively`;
    }
    const checks = failing.map((k) => k.id);
    const suites = [...new Set(checks.map((id) => id.split('.')[0] as string))];
    out.push({ cellId: c.id, arch: c.cell.arch, mode, istioVersion: c.istioVersion, suites: suites.length ? suites : ['traffic', 'mtls', 'retry', 'ingress', 'crash'], checks, ...(note ? { note } : {}) });
  }
  return out;
}

export function nextCommands(kubeconfig: string): string[] {
  return [
    `export KUBECONFIG=${kubeconfig}`,
    'kubectl get pods -A -o wide',
    'kubectl get events -A --sort-by=.lastTimestamp | tail -30',
    'kubectl describe pod -n <namespace> <pod>',
    'kubectl logs -n <namespace> <pod> -c istio-proxy --previous',
    'istioctl proxy-status',
    'istioctl proxy-config cluster <pod>.<namespace>',
    'istioctl proxy-config route <pod>.<namespace> -o json',
    'istioctl analyze -A',
  ];
}

export function reproCommand(ctx: Context): Command {
  return new Command('repro')
    .description('reproduce a failing cell of a report on this machine: same versions, arch and mode; only the failing checks; keeps the cluster')
    .argument('<report>', 'a run report or matrix (meshcheck.run/v1, meshcheck.matrix/v1)')
    .option('--case <id>', 'only this check (e.g. traffic.weighted-split) or cell id')
    .option('--keep', 'keep the cluster afterwards (the default for repro; --no-keep deletes it)', true)
    .option('--no-keep', 'delete the cluster afterwards')
    .option('--dry-run', 'print what would run; run nothing')
    .action(async (file: string, flags: { case?: string; keep: boolean; dryRun?: boolean }) => {
      const [{ readReports }, { mergeReports }, { probeHost }] = await Promise.all([import('../../../reports/read.ts'), import('../../../reports/merge.ts'), import('../../arch/host.ts')]);
      const { reports, problems } = await readReports([path.resolve(ctx.cwd, file)]);
      if (!reports.length) throw new UsageError(`${file}: ${problems[0]?.message ?? 'unreadable'}`, problems[0]?.fix);
      const matrix = mergeReports(reports, ctx.now());
      const host = (await probeHost()).arch;
      const targets = reproTargets(matrix.cells, host, flags.case);
      if (!targets.length) throw new UsageError(`${file} has no failing cell${flags.case ? ` or check ${flags.case}` : ''} to reproduce`, flags.case ? 'check the id (meshcheck report lists them)' : 'repro is for failing reports');
      const { runCli } = await import('../main.ts');
      let worst = 0;
      for (const t of targets) {
        const args = ['run', '--arch', t.arch, '--mode', t.mode, '--istio-version', t.istioVersion, '--suites', t.suites.join(','), ...(flags.keep ? ['--keep'] : []), ...(flags.dryRun ? ['--dry-run'] : [])];
        ctx.io.out(`# repro of ${t.cellId}${t.checks.length ? ` (failing: ${t.checks.join(', ')})` : ''}\n`);
        if (t.note) ctx.io.out(`# note: ${t.note}\n`);
        ctx.io.out(`${formatCommand('meshcheck', args)}\n`);
        if (flags.dryRun) {
          ctx.io.out(`# then, with the kept cluster:\n${nextCommands('~/.cache/meshcheck/clusters/<cluster>/kubeconfig').map((l) => `  ${l}`).join('\n')}\n`);
          continue;
        }
        const code = await runCli(args, ctx);
        worst = Math.max(worst, code);
        ctx.io.out(`# next, with the kept cluster (its kubeconfig is printed above):\n${nextCommands('<kubeconfig above>').map((l) => `  ${l}`).join('\n')}\n`);
      }
      if (worst) {
        const { MeshcheckError } = await import('../../errors.ts');
        throw new MeshcheckError('the reproduced run did not pass: see above', { category: worst === 1 ? 'check-failed' : worst === 2 ? 'usage' : 'infrastructure' });
      }
    });
}
