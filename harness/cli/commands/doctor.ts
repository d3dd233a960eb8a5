/** `meshcheck doctor`: what this host can run, and how to get what is missing. */
import { Command, Option } from 'commander';
import { normalizePlatform, PlatformSyntaxError } from '../../arch/platform.ts';
import type { Context } from '../../context.ts';
import { MeshcheckError, UsageError } from '../../errors.ts';

export function doctorCommand(ctx: Context): Command {
  return new Command('doctor')
    .description('report what this host can run: native arch, emulated arches (binfmt/QEMU), Docker, kind, kubectl, istioctl, page size')
    .option('--json', 'print the report as JSON')
    .option('--calibrate', 'also measure how much slower the emulated arch runs than native (takes a few seconds); cluster and suite timeouts are multiplied by this factor')
    .addOption(
      new Option('--require <platforms>', 'exit 1 unless these platforms can run here (comma-separated, e.g. linux/arm64)').argParser(
        (v: string) => v.split(',').map((p) => p.trim()).filter(Boolean),
      ),
    )
    .addHelpText(
      'after',
      `
Examples:
  meshcheck doctor
  meshcheck doctor --json | jq '.platforms'
  meshcheck doctor --calibrate --json | jq '.calibration.factor'
  meshcheck doctor --require linux/arm64     # gate a CI job on arm64 being runnable here`,
    )
    .action(async (opts: { json?: boolean; calibrate?: boolean; require?: string[] }) => {
      let required: string[] = [];
      try {
        required = (opts.require ?? []).map(normalizePlatform);
      } catch (err) {
        if (err instanceof PlatformSyntaxError) throw new UsageError(`--require: ${err.message}`);
        throw err;
      }
      const [{ assessDoctor }, { collectDoctorFacts }, { renderDoctor }] = await Promise.all([
        import('../../doctor/assess.ts'),
        import('../../doctor/collect.ts'),
        import('../../doctor/render.ts'),
      ]);
      if (opts.calibrate) ctx.io.err('calibrating emulation against native (a few seconds)…\n');
      const report = assessDoctor(await collectDoctorFacts({ env: ctx.env, now: ctx.now, calibrate: Boolean(opts.calibrate) }));
      if (opts.json) ctx.io.out(`${JSON.stringify(report, null, 2)}\n`);
      else ctx.io.out(renderDoctor(report));
      const missing = required.filter((p) => !report.platforms.some((r) => r.platform === p && r.runnable));
      if (missing.length) {
        const fixes = missing.map((p) => report.platforms.find((r) => r.platform === p)?.fix).filter(Boolean);
        throw new MeshcheckError(`required platform(s) not runnable on this host: ${missing.join(', ')}`, {
          category: 'check-failed',
          fix: fixes[0] ?? 'install QEMU user emulation (apt-get install qemu-user-static binfmt-support)',
        });
      }
    });
}
