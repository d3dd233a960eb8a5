/**
 * The failure classifier: from what a failed start left behind (exit code, signal, output, a kubelet reason)
 * to one verdict kind. Pure: no I/O, so every message variant is tested directly.
 *
 * Order matters. Text that names the cause beats a bare number: a container that died of SIGILL under QEMU
 * may surface only as a timeout (an emulated PID 1 that dies of a signal hangs), and "exec format error" comes
 * back from docker as plain exit code 1.
 */
import { constants } from 'node:os';

export type FailureKind =
  | 'ok'
  | 'exec-format-error'
  | 'illegal-instruction'
  | 'segfault'
  | 'bus-error'
  | 'page-size'
  | 'missing-platform'
  | 'emulator-crash'
  | 'timeout'
  | 'other';

export interface FailureEvidence {
  exitCode?: number;
  /** Signal name (SIGILL) or number (4). */
  signal?: string | number;
  /** stdout and stderr, or a log tail, or a kubelet/runtime status message. */
  output?: string;
  timedOut?: boolean;
  /** A Kubernetes container state reason (Error, StartError, CrashLoopBackOff, ImagePullBackOff, ErrImagePull). */
  reason?: string;
  /**
   * What is known about the binary that was started and the kernel it ran on. Some failures cannot be told from
   * output alone: Linux kills a process whose segments cannot be mapped at the page size with SIGSEGV after
   * execve's point of no return (fs/binfmt_elf.c load_elf_binary → fs/exec.c), so a 4 KiB-aligned binary on a
   * 64 KiB kernel looks like any segfault; and a shell's ENOEXEC fallback hides the exec format error.
   */
  binary?: { arch?: string; loadAlignMin?: number };
  host?: { arch?: string; pageSize?: number; runnableArchs?: string[] };
}

export interface Classification {
  kind: FailureKind;
  /** One sentence for people. */
  summary: string;
  /** The line of output that decided it, when text decided it. */
  evidence?: string;
  /** QEMU reported the failure: the binary was running under emulation. */
  emulated: boolean;
  /** The fatal signal number, when there was one. */
  signal?: number;
  /** Supporting lines that did not decide the verdict (e.g. Docker's platform-mismatch warning). */
  notes: string[];
}

interface TextRule {
  kind: FailureKind;
  pattern: RegExp;
  summary: (m: RegExpExecArray) => string;
  emulated?: boolean;
  /** The kind follows from the signal number in this capture group (SIGILL → illegal-instruction, …). */
  signalGroup?: number;
}

/**
 * Text rules, most specific first. Sources of each wording are listed in harness/arch/messages.md; the unit
 * tests feed output captured from real runs, and cite upstream lines for variants this machine cannot produce.
 */
const TEXT_RULES: readonly TextRule[] = [
  // QEMU could not start the guest at all: a configuration problem of the emulator, not a verdict on the image.
  {
    kind: 'emulator-crash',
    pattern: /unable to find CPU model '([^']*)'/,
    summary: (m) => `the emulator does not know CPU model '${m[1]}' (an emulator configuration problem, not the image)`,
    emulated: true,
  },
  {
    kind: 'emulator-crash',
    pattern: /QEMU internal SIG\w+|qemu: fatal: .*|qemu: unhandled CPU exception.*|qemu: unsupported syscall.*/,
    summary: (m) => `the emulator itself failed: ${m[0]}`,
    emulated: true,
  },
  // The guest process died of a signal and QEMU said which (linux-user/signal.c, dump_core_and_abort).
  {
    kind: 'other', // refined from the signal number below
    pattern: /qemu: uncaught target signal (\d+) \(([^)]*)\)/,
    summary: (m) => `died of signal ${m[1]} (${m[2]}) under QEMU emulation`,
    emulated: true,
    signalGroup: 1,
  },
  {
    kind: 'page-size',
    pattern: /ELF load command (?:address\/offset |alignment )?not (?:page-|properly )aligned|Unsupported system page size/i,
    summary: () => 'the binary was built for a smaller memory page size than this kernel uses (e.g. 4 KiB vs 64 KiB)',
  },
  {
    kind: 'missing-platform',
    pattern:
      /no matching manifest for (\S+) in the manifest list entries|no match for platform in manifest|does not match the specified platform: wanted ([^,\s]+)|does not match the specified platform \(([^)]+)\)|does not provide the specified platform \(([^)]+)\)/,
    summary: (m) => `the image has no variant for ${m[1] ?? m[2] ?? m[3] ?? m[4] ?? 'the requested platform'}`,
  },
  {
    kind: 'exec-format-error',
    pattern: /exec format error|cannot execute binary file|ENOEXEC/i,
    summary: () => 'the kernel refused to run the binary: it is built for another architecture (exec format error)',
  },
  { kind: 'illegal-instruction', pattern: /Illegal instruction/, summary: () => 'the CPU met an instruction it does not implement (SIGILL)' },
  { kind: 'segfault', pattern: /Segmentation fault/, summary: () => 'the process crashed with a segmentation fault (SIGSEGV)' },
  { kind: 'bus-error', pattern: /Bus error/, summary: () => 'the process crashed with a bus error (SIGBUS)' },
];

const SIGNAL_KINDS: Readonly<Record<number, FailureKind>> = {
  [constants.signals.SIGILL]: 'illegal-instruction',
  [constants.signals.SIGSEGV]: 'segfault',
  [constants.signals.SIGBUS]: 'bus-error',
};

const SIGNAL_SUMMARIES: Readonly<Record<string, string>> = {
  'illegal-instruction': 'the CPU met an instruction it does not implement (SIGILL)',
  segfault: 'the process crashed with a segmentation fault (SIGSEGV)',
  'bus-error': 'the process crashed with a bus error (SIGBUS)',
};

export function signalNumber(signal: string | number | undefined): number | undefined {
  if (signal === undefined) return undefined;
  if (typeof signal === 'number') return signal;
  const n = (constants.signals as Record<string, number>)[signal.toUpperCase()];
  return n ?? (/^\d+$/.test(signal) ? Number(signal) : undefined);
}

/** Lines that do not decide a verdict but that a person reading the report should see. */
const NOTE_PATTERNS: ReadonlyArray<{ pattern: RegExp; note: (m: RegExpExecArray) => string }> = [
  {
    pattern: /WARNING: The requested image's platform \([^)]*\) does not match the detected host platform \([^)]*\).*/,
    note: (m) => m[0].trim(),
  },
  {
    // glibc's execvp, libuv's spawn and busybox ash run a file that fails with ENOEXEC as a shell script
    // (POSIX's fallback), so a wrong-arch binary can surface only as a syntax error on "line 1".
    pattern: /^(\S+): (?:line )?1: [Ss]yntax error: .*$/m,
    note: (m) =>
      `${m[1]}: a shell reported a syntax error on line 1; if that file is a binary, the kernel refused it (exec format error) and the shell fell back to reading it as a script — check its ELF header`,
  },
];

function lineOf(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end === -1 ? undefined : end).trim();
}

export function classifyFailure(e: FailureEvidence): Classification {
  return refineWithBinary(classifyOutput(e), e);
}

/** Use what is known about the binary to sharpen a verdict the output alone left vague. */
function refineWithBinary(c: Classification, e: FailureEvidence): Classification {
  const align = e.binary?.loadAlignMin;
  const page = e.host?.pageSize;
  if (c.kind === 'segfault' && align && page && align < page) {
    return {
      ...c,
      kind: 'page-size',
      summary: `the binary's segments are aligned to ${align} bytes but the kernel uses ${page}-byte pages: the kernel kills it with SIGSEGV while loading it`,
    };
  }
  const arch = e.binary?.arch;
  const runnable = e.host?.runnableArchs;
  if (c.kind === 'other' && arch && runnable && !runnable.includes(arch) && c.notes.some((n) => n.includes('syntax error on line 1'))) {
    return { ...c, kind: 'exec-format-error', summary: `the kernel refused the ${arch} binary (exec format error) and a shell then read it as a script` };
  }
  return c;
}

function classifyOutput(e: FailureEvidence): Classification {
  const text = e.output ?? '';
  const notes = NOTE_PATTERNS.flatMap(({ pattern, note }) => {
    const m = pattern.exec(text);
    return m ? [note(m)] : [];
  });
  const done = (c: Omit<Classification, 'notes' | 'emulated'> & { emulated?: boolean }): Classification => ({
    emulated: false,
    ...c,
    notes,
  });

  for (const rule of TEXT_RULES) {
    const m = rule.pattern.exec(text);
    if (!m) continue;
    const evidence = lineOf(text, m.index);
    if (rule.signalGroup !== undefined) {
      const sig = Number(m[rule.signalGroup]);
      // Other signals of an emulated guest (abort, trap, …) are reported as the emulation failing.
      const kind = SIGNAL_KINDS[sig] ?? 'emulator-crash';
      return done({ kind, summary: rule.summary(m), evidence, emulated: true, signal: sig });
    }
    return done({ kind: rule.kind, summary: rule.summary(m), evidence, emulated: rule.emulated ?? false });
  }

  // Kubernetes reasons that carry the verdict without a message we recognise.
  if (e.reason && /^(ErrImagePull|ImagePullBackOff)$/.test(e.reason) && /platform|manifest/i.test(text)) {
    return done({ kind: 'missing-platform', summary: `the image could not be pulled for this platform (${e.reason})` });
  }

  // A fatal signal, reported directly or as a shell/container exit status 128+N.
  const sig = signalNumber(e.signal) ?? (e.exitCode !== undefined && e.exitCode > 128 && e.exitCode < 160 ? e.exitCode - 128 : undefined);
  const sigKind = sig !== undefined ? SIGNAL_KINDS[sig] : undefined;
  if (sig !== undefined && sigKind) {
    return done({ kind: sigKind, summary: SIGNAL_SUMMARIES[sigKind] ?? sigKind, signal: sig });
  }

  if (e.timedOut) return done({ kind: 'timeout', summary: 'it did not finish within the time limit' });
  if (e.exitCode === 0 && sig === undefined) return done({ kind: 'ok', summary: 'it ran and exited 0' });
  const how = sig !== undefined ? `was killed by signal ${sig}` : e.exitCode !== undefined ? `exited with code ${e.exitCode}` : 'failed';
  return done({ kind: 'other', summary: `it ${how}${e.reason ? ` (${e.reason})` : ''}`, ...(sig !== undefined ? { signal: sig } : {}) });
}
