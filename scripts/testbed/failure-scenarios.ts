/**
 * Real failures, produced on the test bed: each scenario is a command that fails the way an architecture
 * problem fails in the field. `node scripts/capture-failures.ts` runs them and stores what the programs printed
 * in harness/arch/fixtures/captured-failures.json (the classifier's unit tests); the integration tests run them
 * again live, so the stored output cannot drift from what the real programs print.
 */
import type { FailureKind } from '../../harness/arch/classify.ts';
import { runCommand } from '../../harness/process/run.ts';
import type { TestbedState } from './state.ts';

export type ScenarioNeeds =
  /** qemu-aarch64 enabled (the normal test bed). */
  | 'emulation'
  /** qemu-aarch64 disabled: only the host-state project may run these (global host state). */
  | 'handler-disabled';

export interface FailureScenario {
  id: string;
  description: string;
  expect: FailureKind;
  needs: ScenarioNeeds;
  command: (bed: TestbedState) => { file: string; args: string[]; env?: Record<string, string> };
}

// `"$0"; exit $?` keeps the shell from exec'ing the program in place, so the shell itself reports the death,
// as it does in an entrypoint script. The path is passed as $0, never spliced into the script text.
const viaShell = (shell: string[], program: string, ...args: string[]) => ({
  file: shell[0]!,
  args: [...shell.slice(1), '-c', `"$0" "$@"; exit $?`, program, ...args],
});
const bash = ['bash'];
const dash = ['/bin/sh'];
const busyboxSh = (bed: TestbedState) => [bed.binaries['busybox-amd64']!, 'sh'];
const image = (bed: TestbedState) => bed.images['meshcheck-test/probe']!.ref;
const dockerRun = (bed: TestbedState, platform: string, extra: string[], ...cmd: string[]) => ({
  file: 'docker',
  args: ['run', '--rm', '--init', '--label', 'meshcheck.testbed=true', '--platform', platform, ...extra, image(bed), ...cmd],
});

export const FAILURE_SCENARIOS: readonly FailureScenario[] = [
  // Illegal instruction: an ARMv8.1 LSE atomic on an ARMv8.0 core (QEMU cortex-a53).
  {
    id: 'qemu-sigill-lse-bash',
    description: 'LSE-atomics arm64 binary under QEMU_CPU=cortex-a53, started by bash',
    expect: 'illegal-instruction',
    needs: 'emulation',
    command: (bed) => ({ ...viaShell(bash, bed.binaries['lse-arm64']!), env: { QEMU_CPU: 'cortex-a53' } }),
  },
  {
    id: 'qemu-lse-neoverse-n1-ok',
    description: 'the same binary under QEMU_CPU=neoverse-n1 (ARMv8.2) runs',
    expect: 'ok',
    needs: 'emulation',
    command: (bed) => ({ file: bed.binaries['lse-arm64']!, args: [], env: { QEMU_CPU: 'neoverse-n1' } }),
  },
  {
    id: 'docker-sigill-lse',
    description: 'docker run --platform linux/arm64 -e QEMU_CPU=cortex-a53 of the LSE binary (with --init)',
    expect: 'illegal-instruction',
    needs: 'emulation',
    command: (bed) => dockerRun(bed, 'linux/arm64', ['-e', 'QEMU_CPU=cortex-a53'], '/bin/lse'),
  },
  {
    id: 'qemu-unknown-cpu-model',
    description: 'QEMU_CPU names a model this QEMU does not have (Debian 7.2 has no neoverse-v1)',
    expect: 'emulator-crash',
    needs: 'emulation',
    command: (bed) => ({ file: bed.binaries['lse-arm64']!, args: [], env: { QEMU_CPU: 'neoverse-v1' } }),
  },
  {
    id: 'native-sigill-bash',
    description: 'amd64 ud2 instruction, started by bash',
    expect: 'illegal-instruction',
    needs: 'emulation',
    command: (bed) => viaShell(bash, bed.binaries['crash-amd64']!, 'ill'),
  },
  {
    id: 'native-sigill-dash',
    description: 'amd64 ud2 instruction, started by dash (/bin/sh)',
    expect: 'illegal-instruction',
    needs: 'emulation',
    command: (bed) => viaShell(dash, bed.binaries['crash-amd64']!, 'ill'),
  },
  {
    id: 'native-sigill-busybox',
    description: 'amd64 ud2 instruction, started by busybox sh',
    expect: 'illegal-instruction',
    needs: 'emulation',
    command: (bed) => viaShell(busyboxSh(bed), bed.binaries['crash-amd64']!, 'ill'),
  },
  {
    id: 'qemu-sigill-udf',
    description: 'arm64 UDF instruction under QEMU, started directly',
    expect: 'illegal-instruction',
    needs: 'emulation',
    command: (bed) => ({ file: bed.binaries['crash-arm64']!, args: ['ill'] }),
  },
  // Segmentation faults and bus errors, native and emulated.
  {
    id: 'native-segv-bash',
    description: 'amd64 NULL write, started by bash',
    expect: 'segfault',
    needs: 'emulation',
    command: (bed) => viaShell(bash, bed.binaries['crash-amd64']!, 'segv'),
  },
  {
    id: 'native-segv-busybox',
    description: 'amd64 NULL write, started by busybox sh',
    expect: 'segfault',
    needs: 'emulation',
    command: (bed) => viaShell(busyboxSh(bed), bed.binaries['crash-amd64']!, 'segv'),
  },
  {
    id: 'qemu-segv-bash',
    description: 'arm64 NULL write under QEMU, started by bash',
    expect: 'segfault',
    needs: 'emulation',
    command: (bed) => viaShell(bash, bed.binaries['crash-arm64']!, 'segv'),
  },
  {
    id: 'docker-qemu-segv',
    description: 'docker run --platform linux/arm64 of an arm64 NULL write (with --init)',
    expect: 'segfault',
    needs: 'emulation',
    command: (bed) => dockerRun(bed, 'linux/arm64', [], '/bin/crash', 'segv'),
  },
  {
    id: 'native-sigbus-dash',
    description: 'amd64 access past the end of a mapped file, started by dash',
    expect: 'bus-error',
    needs: 'emulation',
    command: (bed) => viaShell(dash, bed.binaries['crash-amd64']!, 'bus'),
  },
  {
    id: 'qemu-sigbus',
    description: 'arm64 access past the end of a mapped file under QEMU, started directly',
    expect: 'bus-error',
    needs: 'emulation',
    command: (bed) => ({ file: bed.binaries['crash-arm64']!, args: ['bus'] }),
  },
  {
    id: 'qemu-sigabrt',
    description: 'arm64 abort() under QEMU: a signal with no closer name is reported as the emulated run failing',
    expect: 'emulator-crash',
    needs: 'emulation',
    command: (bed) => ({ file: bed.binaries['crash-arm64']!, args: ['abort'] }),
  },
  // Missing platform: the image has no arm64 variant.
  {
    id: 'docker-pull-no-matching-manifest',
    description: 'docker pull --platform linux/arm64 of an index with only amd64',
    expect: 'missing-platform',
    needs: 'emulation',
    command: (bed) => ({ file: 'docker', args: ['pull', '--platform', 'linux/arm64', bed.images['meshcheck-test/amd64-only']!.ref] }),
  },
  {
    id: 'docker-run-platform-mismatch',
    description: 'docker run --platform linux/arm64 of a single amd64 manifest already present locally',
    expect: 'missing-platform',
    needs: 'emulation',
    command: (bed) => ({
      file: 'docker',
      args: ['run', '--rm', '--label', 'meshcheck.testbed=true', '--platform', 'linux/arm64', bed.images['meshcheck-test/amd64-only']!.platforms['linux/amd64']!, '/bin/busybox', 'true'],
    }),
  },
  // Exec format error: the handler is off, so the kernel refuses the arm64 binary.
  {
    id: 'enoexec-bash',
    description: 'arm64 busybox with qemu-aarch64 disabled, started by bash',
    expect: 'exec-format-error',
    needs: 'handler-disabled',
    command: (bed) => viaShell(bash, bed.binaries['busybox-arm64']!, 'true'),
  },
  {
    id: 'enoexec-dash',
    description: 'arm64 busybox with qemu-aarch64 disabled, started by dash (/bin/sh)',
    expect: 'exec-format-error',
    needs: 'handler-disabled',
    command: (bed) => viaShell(dash, bed.binaries['busybox-arm64']!, 'true'),
  },
  {
    id: 'enoexec-busybox-sh-fallback',
    description:
      'arm64 busybox with qemu-aarch64 disabled, started by busybox sh: ash runs an ENOEXEC file as a shell script, so only a syntax error shows',
    expect: 'other',
    needs: 'handler-disabled',
    command: (bed) => viaShell(busyboxSh(bed), bed.binaries['busybox-arm64']!, 'true'),
  },
  {
    id: 'enoexec-docker-runc',
    description: 'docker run --platform linux/arm64 with qemu-aarch64 disabled (runc reports it)',
    expect: 'exec-format-error',
    needs: 'handler-disabled',
    command: (bed) => ({
      file: 'docker',
      args: ['run', '--rm', '--label', 'meshcheck.testbed=true', '--platform', 'linux/arm64', image(bed), '/bin/sh', '-c', 'true'],
    }),
  },
  {
    id: 'enoexec-docker-tini',
    description: 'docker run --init --platform linux/arm64 with qemu-aarch64 disabled (docker-init/tini reports it)',
    expect: 'exec-format-error',
    needs: 'handler-disabled',
    command: (bed) => dockerRun(bed, 'linux/arm64', [], '/bin/sh', '-c', 'true'),
  },
];

export interface CapturedFailure {
  id: string;
  description: string;
  expect: FailureKind;
  /** The command as run (argument array, shown joined for people). */
  command: string;
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  /** stderr then stdout, exactly as the programs printed them. */
  output: string;
}

/** Run one scenario for real and keep what the programs printed. */
export async function runScenario(bed: TestbedState, s: FailureScenario): Promise<CapturedFailure> {
  const { file, args, env } = s.command(bed);
  const r = await runCommand(file, args, { timeoutMs: 60_000, env });
  const captured: CapturedFailure = {
    id: s.id,
    description: s.description,
    expect: s.expect,
    command: r.command,
    timedOut: r.timedOut,
    output: [r.stderr, r.stdout].filter((t) => t.trim()).join('\n'),
  };
  if (r.exitCode !== undefined) captured.exitCode = r.exitCode;
  if (r.signal) captured.signal = r.signal;
  return captured;
}
