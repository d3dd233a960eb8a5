/** Which CPU models the arm64 sweep runs on this host: only under emulation, only models the installed QEMU has. */
import { handlersFor } from '../arch/binfmt.ts';
import { type HostFacts, probeQemu, type QemuInfo } from '../arch/host.ts';
import { ARM64_CPU_MODELS, type CpuModel, sweepModels } from '../arch/isa.ts';
import type { Platform } from '../arch/platform.ts';

export interface SweepPlan {
  models: CpuModel[];
  notes: string[];
  /** Models the installed QEMU offers. */
  available: string[];
  /** Requested with --cpus but not offered (a configuration problem, not a verdict). */
  unknown: string[];
  qemu?: QemuInfo;
}

/** `requested`: a comma list from --cpus, undefined for the default set, 'none' for no sweep. */
export async function planSweep(host: HostFacts, platforms: Platform[], requested: string | undefined): Promise<SweepPlan> {
  const empty: SweepPlan = { models: [], notes: [], available: [], unknown: [] };
  if (requested === 'none' || host.arch === 'arm64' || !platforms.some((p) => p.architecture === 'arm64')) {
    if (host.arch === 'arm64') empty.notes.push('arm64 runs natively here: QEMU CPU models do not apply (the sweep needs an emulated arm64)');
    return empty;
  }
  const handler = handlersFor(host.binfmt, 'arm64')[0];
  if (!handler) return { ...empty, notes: ['arm64 is not runnable here (no enabled binfmt handler): no sweep'] };
  const qemu = await probeQemu(handler.interpreter);
  const available = qemu.cpuModels ?? [];
  const plan = sweepModels(available);
  let models = plan.models;
  const unknown: string[] = [];
  if (requested) {
    const names = requested.split(',').map((s) => s.trim()).filter(Boolean);
    unknown.push(...names.filter((n) => !available.includes(n)));
    models = names
      .filter((n) => available.includes(n))
      .map((n) => ARM64_CPU_MODELS.find((m) => m.name === n) ?? { name: n, arch: 'unknown', stands_for: 'a QEMU model meshcheck has no table entry for', generation: 99, features: [] })
      .sort((a, b) => a.generation - b.generation);
  }
  return { models, notes: plan.missing.map((m) => `${m.name}: ${m.note}`), available, unknown, qemu };
}
