/** `meshcheck smoke`: run every image on every platform (natively or through QEMU) and say whether it would start. */
import { Command } from 'commander';
import type { Context } from '../../context.ts';
import { InfrastructureError, MeshcheckError, UsageError } from '../../errors.ts';
import { AUDIT_VERDICTS } from '../../audit/vocabulary.ts';
import { RUN_VERDICTS } from '../../smoke/verdicts.ts';
import { meshcheckVersion } from '../../version.ts';
import { addImageSourceOptions, imageSources, type ImageSourceFlags, noImagesError, parseAllow, parsePlatforms, parsePositive } from './shared.ts';

interface SmokeFlags extends ImageSourceFlags {
  cpus?: string;
  calibrate?: boolean;
  emulationFactor?: string;
  sweep: boolean;
  command?: string;
  timeout: string;
}

export function smokeCommand(ctx: Context): Command {
  return addImageSourceOptions(
    new Command('smoke').description('start each image for each platform on Docker (native or QEMU) and classify what happens; sweep arm64 over CPU generations'),
  )
    .option('--cpus <models>', 'QEMU CPU models for the arm64 sweep, comma-separated (default: cortex-a53,cortex-a72,neoverse-n1,neoverse-v1 or a64fx,max)')
    .option('--no-sweep', 'skip the arm64 CPU-model sweep')
    .option('--command <command>', 'run this instead of the per-image version command ("/usr/local/bin/app --version"; no shell)')
    .option('--timeout <ms>', 'hard limit per container run, in milliseconds; emulated runs get it times the emulation factor', '60000')
    .option('--calibrate', 'measure this host’s emulation slowdown first and scale emulated timeouts by it')
    .option('--emulation-factor <n>', 'scale emulated timeouts by this factor (e.g. from `meshcheck doctor --calibrate`)')
    .option('--allow <verdicts>', 'verdicts that do not fail the run, comma-separated')
    .addHelpText(
      'after',
      `
Verdicts: the audit's (ok, missing-platform, config-mismatch, binary-mismatch, page-size-risk, not-found,
unreachable) plus what a run shows: exec-format-error, illegal-instruction, segfault, bus-error, page-size,
emulator-crash, timeout. An image that ran although its binary is for another machine (it ran natively, or through
an emulator) is binary-mismatch: on real hardware of the platform asked for it would fail.

Every container is labelled meshcheck.run=<id>, runs with an init process and a hard timeout, and is removed when
it exits, when the run ends, on Ctrl-C, and — after a kill -9 — by the next meshcheck start.

Examples:
  meshcheck smoke docker.io/istio/proxyv2:1.28.0
  meshcheck smoke --istio 1.28.0 --cpus cortex-a53,neoverse-n1 --json
  meshcheck smoke --insecure-registry 127.0.0.1:5000 127.0.0.1:5000/team/app:1 --command "/app --help"`,
    )
    .action(async (images: string[], flags: SmokeFlags) => {
      const platforms = parsePlatforms(flags.platform);
      const allow = parseAllow(flags.allow, [...AUDIT_VERDICTS, ...RUN_VERDICTS]);
      const timeoutMs = parsePositive('--timeout', flags.timeout);
      const sources = imageSources(images, flags);
      const [{ collectImages }, { RegistryClient }, { runSmoke }, { renderSmoke }, { DockerTarget }, { parseCommandOverride }, sweep, host, { reapedCount }] = await Promise.all([
        import('../../audit/collect-images.ts'),
        import('../../registry/client.ts'),
        import('../../smoke/run-smoke.ts'),
        import('../../smoke/render.ts'),
        import('../../../clusters/docker/docker-target.ts'),
        import('../../smoke/commands.ts'),
        import('../../smoke/sweep-plan.ts'),
        import('../../arch/host.ts'),
        import('../../../clusters/docker/reaper.ts'),
      ]);
      if (flags.calibrate && flags.emulationFactor) throw new UsageError('use either --calibrate or --emulation-factor');
      let emulationFactor = 1;
      if (flags.emulationFactor) {
        emulationFactor = Number(flags.emulationFactor);
        if (!(emulationFactor >= 1)) throw new UsageError(`--emulation-factor: "${flags.emulationFactor}" must be a number >= 1`);
      }
      const facts = await host.probeHost();
      const emulated = [...new Set(platforms.map((p) => p.architecture).filter((a) => a !== facts.arch))];
      if (flags.calibrate && emulated.length) {
        const { calibrate } = await import('../../arch/calibrate.ts');
        for (const arch of emulated) {
          const c = await calibrate({ arch, env: ctx.env });
          ctx.io.err(`calibration: linux/${arch} runs ${c.factor}x slower than native here; its timeouts are scaled by that\n`);
          emulationFactor = Math.max(emulationFactor, c.factor);
        }
      }
      const plan = await sweep.planSweep(facts, platforms, flags.sweep ? flags.cpus : 'none');
      if (plan.unknown.length) throw new UsageError(`--cpus: ${plan.unknown.join(', ')} not offered by this QEMU (it has: ${plan.available.join(', ')})`);
      const { inputs, problems } = await collectImages(ctx, sources);
      if (inputs.length === 0) throw noImagesError(problems);
      await using client = new RegistryClient({ insecureHosts: flags.insecureRegistry ?? [], signal: ctx.signal });
      const target = await new DockerTarget().withDefaultTimeout(timeoutMs).withEnv(ctx.env).start();
      const reapedBefore = reapedCount(target.reapedAtStart);
      if (reapedBefore) ctx.io.err(`removed ${reapedBefore} leftover(s) of earlier meshcheck runs whose process is gone\n`);
      // Ctrl-C: remove this run's containers now (the current run then ends), finish the report of what ran.
      const onAbort = () => void target.stop().catch(() => undefined);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let report;
      try {
        report = await runSmoke(client, target, inputs, {
          platforms,
          host: { arch: facts.arch, ...(plan.qemu?.version ? { qemu: plan.qemu.version } : {}), ...(plan.available.length ? { cpuModels: plan.available } : {}) },
          ...(flags.command ? { commands: [parseCommandOverride(flags.command)] } : {}),
          timeoutMs,
          emulationFactor,
          sweep: plan.models,
          sweepNotes: plan.notes,
          allow,
          problems,
          meshcheckVersion: meshcheckVersion(),
          now: ctx.now(),
          signal: ctx.signal,
          onRun: (image, platform, run) => ctx.io.err(`  ${image} ${platform}${run.cpu ? ` [${run.cpu}]` : ''} ${run.command}: ${run.verdict} (${run.wallMs} ms)\n`),
          onImage: (done, total, entry) => ctx.io.err(`[${done}/${total}] ${entry.image}: ${entry.error ? 'invalid' : entry.platforms.map((p) => `${p.platform}=${p.verdict}`).join(' ')}\n`),
        });
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        await target.stop();
      }
      ctx.io.out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderSmoke(report));
      if (ctx.signal.aborted) {
        throw new InfrastructureError(`interrupted after ${report.images.length} of ${inputs.length} image(s); every container of run ${report.runId} was removed`);
      }
      if (report.exitCode === 1) throw new MeshcheckError(`${report.summary.failing} image × platform check(s) failed`, { category: 'check-failed' });
      if (report.exitCode === 3) throw new MeshcheckError('nothing could be checked: every image was not found or unreachable', { category: 'infrastructure', fix: 'check the registry addresses, network and credentials (docker login)' });
      if (report.exitCode === 2) throw new UsageError('none of the inputs is an image reference', 'see the reasons above');
    });
}
