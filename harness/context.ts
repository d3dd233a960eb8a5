/**
 * What every command gets instead of reaching for globals: where to write, the environment, the clock and an
 * abort signal (Ctrl-C). Tests build their own.
 */
export interface Output {
  /** Data and results (stdout). */
  out(text: string): void;
  /** Progress and diagnostics (stderr): never mixed into --json output. */
  err(text: string): void;
  /** Is stdout a terminal (progress bars, colours) or a pipe/CI log (plain lines)? */
  isTTY: boolean;
}

export interface Context {
  io: Output;
  env: Record<string, string | undefined>;
  cwd: string;
  now: () => Date;
  signal: AbortSignal;
}

export function processContext(signal: AbortSignal): Context {
  return {
    io: {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
      isTTY: Boolean(process.stdout.isTTY),
    },
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    signal,
  };
}
