/** `meshcheck merge`, `meshcheck gate` and `meshcheck report`: from reports to one matrix, a verdict, and views. */
import path from 'node:path';
import { Command } from 'commander';
import type { Context } from '../../context.ts';
import { MeshcheckError, UsageError } from '../../errors.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';

async function readAll(ctx: Context, files: string[]) {
  const [{ readReports }, { mergeReports }] = await Promise.all([import('../../../reports/read.ts'), import('../../../reports/merge.ts')]);
  const { reports, problems } = await readReports(files.map((f) => path.resolve(ctx.cwd, f)));
  for (const p of problems) ctx.io.err(`meshcheck: ${p.file}: ${p.message}\nfix: ${p.fix}\n`);
  if (!reports.length) throw new UsageError('no readable report among the files given', 'pass reports written by `meshcheck run` or `meshcheck merge`');
  return { matrix: mergeReports(reports, ctx.now()), problems };
}

export function mergeCommand(ctx: Context): Command {
  return new Command('merge')
    .description('merge run reports (and matrices) into one matrix report')
    .argument('<reports...>', 'report files (meshcheck.run/v1 or meshcheck.matrix/v1)')
    .requiredOption('-o, --output <file>', 'where to write the matrix (written atomically)')
    .action(async (files: string[], flags: { output: string }) => {
      const { matrix, problems } = await readAll(ctx, files);
      await writeFileAtomic(path.resolve(ctx.cwd, flags.output), `${JSON.stringify(matrix, null, 2)}\n`);
      ctx.io.out(`merged ${matrix.sources.length} run(s), ${matrix.cells.length} cell(s) into ${flags.output}${problems.length ? ` (${problems.length} file(s) skipped)` : ''}\n`);
      if (problems.length) throw new MeshcheckError(`${problems.length} report file(s) could not be used`, { category: 'usage' });
    });
}

export function gateCommand(ctx: Context): Command {
  return new Command('gate')
    .description('decide a release: the matrix against a policy (and the previous release’s matrix)')
    .argument('<reports...>', 'report files of this release')
    .option('--policy <file>', 'policy (YAML or JSON); default: every check passes, no crash, no flaky, no infra-error')
    .option('--baseline <file>', 'the previous release’s matrix, for latency regression')
    .option('--json', 'print the verdict as JSON')
    .addHelpText('after', '\nExit 0: the gate passes. Exit 1: it fails (reasons listed). Exit 2: a bad policy or report.')
    .action(async (files: string[], flags: { policy?: string; baseline?: string; json?: boolean }) => {
      const [{ loadPolicy }, { evaluateGate, renderGate }] = await Promise.all([import('../../../reports/gate/policy.ts'), import('../../../reports/gate/gate.ts')]);
      const policy = await loadPolicy(flags.policy ? path.resolve(ctx.cwd, flags.policy) : undefined);
      const { matrix, problems } = await readAll(ctx, files);
      if (problems.length) throw new UsageError(`${problems.length} report file(s) could not be read; a gate never decides on partial input`, 'fix or remove the files named above');
      const baseline = flags.baseline ? (await readAll(ctx, [flags.baseline])).matrix : undefined;
      const v = evaluateGate(matrix, policy, baseline);
      ctx.io.out(flags.json ? `${JSON.stringify(v, null, 2)}\n` : renderGate(v));
      if (!v.pass) throw new MeshcheckError('the release gate failed', { category: 'check-failed' });
    });
}

export function reportCommand(ctx: Context): Command {
  return new Command('report')
    .description('render reports: JUnit XML, the Markdown summary, GitHub annotations and outputs')
    .argument('<reports...>', 'report files')
    .option('--junit <file>', 'write JUnit XML (one testsuite per cell)')
    .option('--markdown <file>', 'write the Markdown summary')
    .option('--html <file>', 'write the self-contained HTML report (no network needed to view it)')
    .option('--github', 'append the summary to $GITHUB_STEP_SUMMARY, outputs to $GITHUB_OUTPUT, and print ::error annotations')
    .action(async (files: string[], flags: { junit?: string; markdown?: string; html?: string; github?: boolean }) => {
      const { matrix } = await readAll(ctx, files);
      await writeViews(ctx, matrix, { ...flags, reportFile: files.join(' ') });
    });
}

export async function writeViews(ctx: Context, matrix: import('../../../reports/schema.ts').MatrixV1, o: { junit?: string; markdown?: string; html?: string; github?: boolean; reportFile: string }): Promise<void> {
  const [{ renderJunit }, { renderMarkdown }, { renderAnnotations, renderOutputs }, { appendFile }, { renderHtml }] = await Promise.all([
    import('../../../reports/render/junit.ts'),
    import('../../../reports/render/markdown.ts'),
    import('../../../reports/render/github.ts'),
    import('node:fs/promises'),
    import('../../../reports/render/html.ts'),
  ]);
  if (o.html) await writeFileAtomic(path.resolve(ctx.cwd, o.html), renderHtml(matrix));
  if (o.junit) await writeFileAtomic(path.resolve(ctx.cwd, o.junit), renderJunit(matrix));
  if (o.markdown) await writeFileAtomic(path.resolve(ctx.cwd, o.markdown), renderMarkdown(matrix));
  if (o.github) {
    if (ctx.env.GITHUB_STEP_SUMMARY) await appendFile(ctx.env.GITHUB_STEP_SUMMARY, renderMarkdown(matrix));
    if (ctx.env.GITHUB_OUTPUT) await appendFile(ctx.env.GITHUB_OUTPUT, renderOutputs(matrix, o.reportFile));
    ctx.io.out(renderAnnotations(matrix));
  }
}
