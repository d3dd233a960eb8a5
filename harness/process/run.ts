/**
 * Running external programs. Always an argument array (execa, never a shell string), always a timeout, and a
 * result object that keeps everything a failure report needs: the command, exit code, signal, output, duration.
 */
import { execa } from 'execa';
import { formatCommand } from './format.ts';

export { formatCommand };

export interface RunOptions {
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  /** Replace the environment instead of extending process.env. */
  extendEnv?: boolean;
  cwd?: string;
  input?: string;
  signal?: AbortSignal;
}

export interface CommandResult {
  /** The command as a person would type it (for messages only; it was never run through a shell). */
  command: string;
  file: string;
  args: readonly string[];
  exitCode?: number;
  /** Signal name when the process was killed by one (SIGILL, SIGSEGV, …). */
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** The program could not be started at all (ENOENT, EACCES, ENOEXEC …). */
  spawnError?: { code: string; message: string };
  ok: boolean;
}

export class CommandFailedError extends Error {
  override name = 'CommandFailedError';
  readonly result: CommandResult;
  readonly fix: string | undefined;
  constructor(result: CommandResult, fix?: string) {
    super(describeFailure(result) + (fix ? `\nfix: ${fix}` : ''));
    this.result = result;
    this.fix = fix;
  }
}

export function describeFailure(r: CommandResult, tailLines = 20): string {
  const how = r.spawnError
    ? `could not start (${r.spawnError.code}: ${r.spawnError.message})`
    : r.timedOut
      ? `timed out after ${r.durationMs} ms`
      : r.signal
        ? `was killed by ${r.signal}`
        : `exited with code ${r.exitCode}`;
  const tail = (r.stderr || r.stdout).trim().split('\n').slice(-tailLines).join('\n');
  return `\`${r.command}\` ${how}${tail ? `; last output:\n${tail}` : ''}`;
}



/** Run and return the result; never throws for a non-zero exit (callers classify it). */
export async function runCommand(file: string, args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const started = performance.now();
  const r = await execa(file, args, {
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    env: opts.env,
    extendEnv: opts.extendEnv ?? true,
    cwd: opts.cwd,
    input: opts.input,
    cancelSignal: opts.signal,
    stripFinalNewline: false,
    forceKillAfterDelay: 2_000,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
  });
  const durationMs = Math.round(performance.now() - started);
  const result: CommandResult = {
    command: formatCommand(file, args),
    file,
    args,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    durationMs,
    timedOut: r.timedOut,
    ok: !r.failed,
  };
  if (r.exitCode !== undefined) result.exitCode = r.exitCode;
  if (r.signal) result.signal = r.signal;
  const cause = r.cause as NodeJS.ErrnoException | undefined;
  if (r.failed && r.exitCode === undefined && !r.signal && !r.timedOut && cause?.code) {
    result.spawnError = { code: cause.code, message: cause.message };
  }
  return result;
}

/** Run and throw CommandFailedError unless it exits 0. */
export async function runChecked(file: string, args: readonly string[], opts: RunOptions & { fix?: string } = {}) {
  const r = await runCommand(file, args, opts);
  if (!r.ok) throw new CommandFailedError(r, opts.fix);
  return r;
}
