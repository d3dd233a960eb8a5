/** `meshcheck latency`: the echo workload per architecture under constant-rate load, native vs emulated. */
import { Command } from 'commander';
import type { Context } from '../../context.ts';
import { InfrastructureError, MeshcheckError, UsageError } from '../../errors.ts';
import { meshcheckVersion } from '../../version.ts';
import { parsePlatforms, parsePositive } from './shared.ts';

interface LatencyFlags {
  image: string;
  platform: string;
  rates: string;
  duration: string;
  warmup: string;
  reps: string;
  path: string;
  startupTimeout: string;
  calibrate?: boolean;
  json?: boolean;
}

/** "10s", "500ms", "2m" or plain milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: "${text}" is not a duration (e.g. 10s, 500ms, 2m)`);
  const n = Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
  if (!(n > 0)) throw new UsageError(`${flag}: must be more than 0`);
  return Math.round(n);
}

export function latencyCommand(ctx: Context): Command {
  return new Command('latency')
    .description('measure the echo workload per platform (native and QEMU-emulated) at fixed request rates with a constant-rate generator')
    .requiredOption('--image <ref>', 'the echo workload image (suites/workloads/echo; the test bed pushes it as <registry>/meshcheck/echo)')
    .option('--platform <platforms>', 'platforms, comma-separated', 'linux/amd64,linux/arm64')
    .option('--rates <list>', 'requests per second, comma-separated', '100,500')
    .option('--duration <d>', 'measured window per rate and repetition', '10s')
    .option('--warmup <d>', 'warm-up before each window, not measured (wrk2 uses 10 s: a fresh server and generator stall early)', '10s')
    .option('--reps <n>', 'interleaved repetitions', '3')
    .option('--path <path>', 'path and query asked of the echo server', '/')
    .option('--startup-timeout <d>', 'time for the workload to answer /readyz (emulated: times the emulation factor)', '60s')
    .option('--calibrate', 'measure the emulation factor first (reported, and used for the start-up timeout)')
    .option('--json', 'print the report as JSON (schema meshcheck.latency/v1)')
    .addHelpText(
      'after',
      `
Latency is corrected for coordinated omission: each request's latency runs from when it was due on the fixed
schedule, not from when it was sent. A run that did not hold its rate, whose generator fell behind, or whose event
loop stalled is marked invalid (exit 1) and must not be compared.

Example:
  meshcheck latency --image 127.0.0.1:5000/meshcheck/echo:1 --rates 100,500 --duration 10s --reps 3`,
    )
    .action(async (flags: LatencyFlags) => {
      const platforms = parsePlatforms(flags.platform);
      const rates = flags.rates.split(',').map((r) => parsePositive('--rates', r.trim()));
      const durationMs = parseDuration('--duration', flags.duration);
      const warmupMs = parseDuration('--warmup', flags.warmup);
      const reps = parsePositive('--reps', flags.reps);
      let startupTimeoutMs = parseDuration('--startup-timeout', flags.startupTimeout);
      if (!flags.path.startsWith('/')) throw new UsageError(`--path: "${flags.path}" must start with /`);
      const [{ DockerTarget }, { runLatency }, { renderLatency }, host] = await Promise.all([
        import('../../../clusters/docker/docker-target.ts'),
        import('../../latency/run-latency.ts'),
        import('../../latency/render.ts'),
        import('../../arch/host.ts'),
      ]);
      const facts = await host.probeHost();
      const emulated = [...new Set(platforms.map((p) => p.architecture).filter((a) => a !== facts.arch))];
      let calibrationFactor: number | undefined;
      if (flags.calibrate && emulated.length) {
        const { calibrate, scaleTimeout } = await import('../../arch/calibrate.ts');
        for (const arch of emulated) calibrationFactor = Math.max(calibrationFactor ?? 1, (await calibrate({ arch, env: ctx.env })).factor);
        startupTimeoutMs = scaleTimeout(startupTimeoutMs, calibrationFactor ?? 1);
      }
      const handler = facts.binfmt.handlers.find((h) => h.enabled && emulated.includes(h.arch ?? ''));
      const qemu = handler ? (await host.probeQemu(handler.interpreter)).version : undefined;
      const target = await new DockerTarget().withEnv(ctx.env).start();
      const onAbort = () => void target.stop().catch(() => undefined);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let report;
      try {
        report = await runLatency(
          target,
          { image: flags.image, platforms, rates, durationMs, warmupMs, reps, hostArch: facts.arch, path: flags.path, startupTimeoutMs },
          { ...(qemu ? { qemu } : {}), ...(calibrationFactor ? { calibrationFactor } : {}) },
          { meshcheckVersion: meshcheckVersion(), now: ctx.now(), signal: ctx.signal, onRun: (line) => ctx.io.err(`${line}\n`) },
        );
      } catch (err) {
        if (ctx.signal.aborted) throw new InfrastructureError(`interrupted; every container of run ${target.runId} was removed`);
        throw err;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        await target.stop();
      }
      ctx.io.out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderLatency(report));
      if (report.interrupted) throw new InfrastructureError(`interrupted; every container of run ${report.runId} was removed`);
      if (!report.valid) throw new MeshcheckError('the measurement is not valid (see the VALID column): do not compare these figures', { category: 'check-failed' });
    });
}
