/** I/O: gather the facts `meshcheck doctor` judges. Everything runs concurrently; nothing here decides. */
import { probeDockerEngine, probeHost, probeQemu, type HostProbeOptions } from '../arch/host.ts';
import { probeTool, TOOLS } from '../process/tools.ts';
import { meshcheckVersion } from '../version.ts';
import type { DoctorFacts } from './assess.ts';

export interface CollectOptions extends HostProbeOptions {
  env?: Record<string, string | undefined>;
  now?: () => Date;
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
  const qemu = await Promise.all(interpreters.map((i) => probeQemu(i)));
  return { host, docker, tools, qemu, meshcheckVersion: meshcheckVersion(), now: (opts.now ?? (() => new Date()))() };
}
