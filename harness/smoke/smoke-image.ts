/**
 * Smoke one image on every platform: ask the registry first (the audit, deep, so a binary of the wrong machine is
 * known even when it runs), then run the image's version command for each platform on the Docker target — natively
 * or through QEMU — and, for arm64 under emulation, again under each CPU model of the ISA sweep.
 */
import { scaleTimeout } from '../arch/calibrate.ts';
import { classifyFailure } from '../arch/classify.ts';
import { classifyA64Instruction, type CpuModel, oldestPassing, parseQemuTranslationLog } from '../arch/isa.ts';
import { formatPlatform, type Platform } from '../arch/platform.ts';
import { auditImage, type PlatformAudit } from '../audit/audit-image.ts';
import type { RegistryClient } from '../registry/client.ts';
import { formatReference, type ImageReference } from '../registry/reference.ts';
import type { RunResult, RunSpec, StartedDockerTarget } from '../../clusters/docker/docker-target.ts';
import { defaultCommands, type SmokeCommand } from './commands.ts';
import { judgeRun, type SmokeVerdict, worst } from './verdicts.ts';

export interface SmokeRun {
  command: string;
  cpu?: string;
  verdict: SmokeVerdict;
  reason: string;
  exitCode?: number;
  timedOut: boolean;
  wallMs: number;
  runMs?: number;
  /** The last lines of output, as evidence. */
  output: string;
}

export interface SweepEntry {
  model: string;
  arch: string;
  standsFor: string;
  verdict: SmokeVerdict;
  reason: string;
  /** For an illegal instruction: the one QEMU stopped at, and what it needs. */
  instruction?: { pc: string; word: string; class: string; feature: string; introduced: string };
}

export interface PlatformSmoke {
  platform: string;
  how: 'native' | 'emulated';
  verdict: SmokeVerdict;
  reason: string;
  /** The single-platform digest that was run. */
  digest?: string;
  audit?: { verdict: string; reason: string };
  runs: SmokeRun[];
  /** Start-up of the first command (Docker's StartedAt → FinishedAt). */
  startupMs?: number;
  sweep?: { entries: SweepEntry[]; baseline?: string; baselineStandsFor?: string; failsOn: string[]; notes: string[] };
}

export interface ImageSmoke {
  image: string;
  canonical: string;
  platforms: PlatformSmoke[];
}

export interface SmokeOptions {
  platforms: Platform[];
  hostArch: string;
  /** Replaces the per-image default commands. */
  commands?: SmokeCommand[];
  timeoutMs: number;
  /** Multiplies timeoutMs for emulated runs (the host's calibration factor; 1 when not measured). */
  emulationFactor?: number;
  /** CPU models for the arm64 sweep, already checked against the installed QEMU; empty: no sweep. */
  sweep: CpuModel[];
  sweepNotes: string[];
  /** Ctrl-C: a run cut short is reported as such, and nothing more is started. */
  signal?: AbortSignal;
  onRun?: (image: string, platform: string, run: SmokeRun) => void;
}

function tail(text: string, lines = 12): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

function pinned(ref: ImageReference, digest: string): string {
  return formatReference({ registry: ref.registry, repository: ref.repository, digest });
}

async function runOne(
  target: StartedDockerTarget,
  spec: RunSpec,
  command: SmokeCommand,
  binaryMismatch: string | undefined,
  cpu?: string,
  signal?: AbortSignal,
): Promise<SmokeRun & { raw: RunResult }> {
  const raw = await target.run(spec);
  const c = classifyFailure({ ...(raw.exitCode !== undefined ? { exitCode: raw.exitCode } : {}), output: raw.output, timedOut: raw.timedOut });
  const j = raw.interrupted || signal?.aborted
    ? { verdict: 'unreachable' as const, reason: 'interrupted (Ctrl-C) before it finished: its container was removed' }
    : judgeRun(c, raw, binaryMismatch);
  const run: SmokeRun & { raw: RunResult } = {
    command: command.label,
    verdict: j.verdict,
    reason: j.reason,
    timedOut: raw.timedOut,
    wallMs: raw.wallMs,
    output: tail(raw.output),
    raw,
  };
  if (cpu) run.cpu = cpu;
  if (raw.exitCode !== undefined) run.exitCode = raw.exitCode;
  if (raw.runMs !== undefined) run.runMs = raw.runMs;
  return run;
}

function specFor(image: string, platform: string, command: SmokeCommand, timeoutMs: number, env?: Record<string, string>): RunSpec {
  return {
    image,
    platform,
    command: command.args,
    ...(command.entrypoint ? { entrypoint: command.entrypoint } : {}),
    timeoutMs,
    ...(env ? { env } : {}),
  };
}

/** Run the first command under each CPU model; on SIGILL, once more with QEMU's translation log to name the instruction. */
async function sweepArm64(target: StartedDockerTarget, name: string, image: string, platform: string, command: SmokeCommand, mismatch: string | undefined, opts: SmokeOptions) {
  const entries: SweepEntry[] = [];
  for (const model of opts.sweep) {
    if (opts.signal?.aborted) break;
    const run = await runOne(target, specFor(image, platform, command, opts.timeoutMs, { QEMU_CPU: model.name }), command, mismatch, model.name, opts.signal);
    opts.onRun?.(name, platform, run);
    const entry: SweepEntry = { model: model.name, arch: model.arch, standsFor: model.stands_for, verdict: run.verdict, reason: run.reason };
    if (run.verdict === 'illegal-instruction') {
      // The log is large (every translated block); only its tail is kept, and only this one run pays for it.
      const diag = await target.run(specFor(image, platform, command, opts.timeoutMs, { QEMU_CPU: model.name, QEMU_LOG: 'in_asm', QEMU_LOG_FILENAME: '/dev/stderr' }));
      const insn = parseQemuTranslationLog(diag.output);
      if (insn) {
        const cls = classifyA64Instruction(insn.word);
        entry.instruction = {
          pc: insn.pc,
          word: `0x${insn.word.toString(16).padStart(8, '0')}`,
          class: cls?.class ?? 'unknown',
          feature: cls?.feature ?? 'an instruction this CPU model does not implement',
          introduced: cls?.introduced ?? 'unknown',
        };
        entry.reason = `${run.reason}; QEMU stopped at ${insn.pc}: ${entry.instruction.word} (${entry.instruction.feature}${cls ? `, ${cls.introduced}` : ''})`;
      }
    }
    entries.push(entry);
  }
  const { baseline, failsOn } = oldestPassing(entries.map((e) => ({ model: e.model, verdict: e.verdict })));
  return {
    entries,
    ...(baseline ? { baseline: baseline.name, baselineStandsFor: baseline.stands_for } : {}),
    failsOn: failsOn.map((m) => m.name),
    notes: opts.sweepNotes,
  };
}

export async function smokeImage(client: RegistryClient, target: StartedDockerTarget, image: string, ref: ImageReference, opts: SmokeOptions): Promise<ImageSmoke> {
  const audit = await auditImage(client, image, ref, { platforms: opts.platforms, deep: true });
  const commands = opts.commands ?? defaultCommands(ref.repository);
  const out: ImageSmoke = { image, canonical: ref.canonical, platforms: [] };
  for (const [i, want] of opts.platforms.entries()) {
    const platform = formatPlatform(want);
    const a: PlatformAudit | undefined = audit.platforms[i];
    const how = want.architecture === opts.hostArch ? 'native' : 'emulated';
    const result: PlatformSmoke = { platform, how, verdict: 'ok', reason: '', runs: [] };
    if (a) result.audit = { verdict: a.verdict, reason: a.reason };
    // Nothing to run when the registry already says there is no such image for this platform.
    if (!a || a.verdict === 'missing-platform' || a.verdict === 'not-found' || a.verdict === 'unreachable' || !a.manifestDigest) {
      result.verdict = (a?.verdict as SmokeVerdict | undefined) ?? 'unreachable';
      result.reason = a?.reason ?? 'not audited';
      out.platforms.push(result);
      continue;
    }
    result.digest = a.manifestDigest;
    const timeoutMs = how === 'emulated' ? scaleTimeout(opts.timeoutMs, opts.emulationFactor ?? 1) : opts.timeoutMs;
    const platformOpts = { ...opts, timeoutMs };
    const runnable = pinned(ref, a.manifestDigest);
    const mismatch = a.findings.find((f) => f.verdict === 'binary-mismatch')?.reason;
    for (const command of commands) {
      if (opts.signal?.aborted) break;
      const run = await runOne(target, specFor(runnable, platform, command, timeoutMs), command, mismatch, undefined, opts.signal);
      opts.onRun?.(image, platform, run);
      const { raw: _raw, ...kept } = run;
      result.runs.push(kept);
    }
    if (want.architecture === 'arm64' && how === 'emulated' && opts.sweep.length && commands[0] && !opts.signal?.aborted) {
      result.sweep = await sweepArm64(target, image, runnable, platform, commands[0], mismatch, platformOpts);
    }
    result.startupMs = result.runs[0]?.runMs;
    const verdicts: SmokeVerdict[] = result.runs.map((r) => r.verdict);
    if (a.verdict === 'config-mismatch' || a.verdict === 'page-size-risk') verdicts.push(a.verdict);
    result.verdict = worst(verdicts);
    const deciding = result.runs.find((r) => r.verdict === result.verdict);
    result.reason = deciding ? `${deciding.command}: ${deciding.reason}` : a.reason;
    out.platforms.push(result);
  }
  return out;
}
