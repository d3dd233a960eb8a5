/** I/O: gather the facts `meshcheck doctor` judges. Everything runs concurrently; nothing here decides. */
import { handlersFor } from '../arch/binfmt.ts';
import { calibrate } from '../arch/calibrate.ts';
import { probeCapabilities } from '../arch/capabilities.ts';
import { probeDockerEngine, probeHost, probeQemu, type HostFacts, type HostProbeOptions } from '../arch/host.ts';
import { MeshcheckError } from '../errors.ts';
import { probeTool, TOOLS } from '../process/tools.ts';
import { meshcheckVersion } from '../version.ts';
import { type DoctorFacts, PLATFORMS_OF_INTEREST } from './assess.ts';
import type { CalibrationReport } from './report.ts';

export interface CollectOptions extends HostProbeOptions {
  env?: Record<string, string | undefined>;
  now?: () => Date;
  /** Also measure emulation against native (`doctor --calibrate`; takes a few seconds). */
  calibrate?: boolean;
}

/** Foreign arches an enabled binfmt handler runs here, those meshcheck checks first. */
function emulatedArches(host: HostFacts): string[] {
  const arches = [...new Set(host.binfmt.handlers.map((h) => h.arch).filter((a): a is string => Boolean(a) && a !== host.arch))];
  const runnable = arches.filter((a) => handlersFor(host.binfmt, a).length > 0);
  const rank = (a: string) => {
    const i = (PLATFORMS_OF_INTEREST as readonly string[]).indexOf(`linux/${a}`);
    return i < 0 ? PLATFORMS_OF_INTEREST.length : i;
  };
  return runnable.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

async function calibration(host: HostFacts, env: Record<string, string | undefined>): Promise<CalibrationReport> {
  const arch = emulatedArches(host)[0];
  if (!arch) {
    return {
      problem: 'cannot calibrate: nothing runs emulated on this host (no enabled binfmt handler for a foreign architecture)',
      fix: 'install QEMU user emulation (Debian/Ubuntu: apt-get install qemu-user-static binfmt-support; GitHub Actions: docker/setup-qemu-action)',
    };
  }
  try {
    return await calibrate({ arch, hostArch: host.arch, env });
  } catch (err) {
    if (err instanceof MeshcheckError) return { arch, problem: err.message, ...(err.fix ? { fix: err.fix } : {}) };
    throw err;
  }
}

export async function collectDoctorFacts(opts: CollectOptions = {}): Promise<DoctorFacts> {
  const env = opts.env ?? process.env;
  const [host, docker, tools] = await Promise.all([
    probeHost(opts),
    probeDockerEngine(env),
    Promise.all(TOOLS.map((t) => probeTool(t, env))),
  ]);
  // Ask each distinct emulator of an enabled ELF handler for its version and CPU models.
  const interpreters = [...new Set(host.binfmt.handlers.filter((h) => h.enabled && h.arch && h.arch !== host.arch).map((h) => h.interpreter))];
  const [qemu, capabilities] = await Promise.all([
    Promise.all(interpreters.map((i) => probeQemu(i))),
    // Natively (what the kernel offers) and through each emulator (what it passes on).
    Promise.all([host.arch, ...emulatedArches(host)].map((a) => probeCapabilities(a, { env, hostArch: host.arch }))),
  ]);
  const facts: DoctorFacts = { host, docker, tools, qemu, capabilities, meshcheckVersion: meshcheckVersion(), now: (opts.now ?? (() => new Date()))() };
  // Last and alone: timings taken while the other probes run would measure the contention, not the emulator.
  if (opts.calibrate) facts.calibration = await calibration(host, env);
  return facts;
}
