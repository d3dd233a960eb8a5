/**
 * A container that runs one command to its end: always with an init process (an emulated PID 1 that dies of a
 * signal hangs instead of exiting — FACTS.md), always with a hard timeout, output kept (the tail), exit code and
 * Docker's own start/finish times read back. Built on testcontainers' GenericContainer, extended the way its module
 * containers are: a subclass that sets host config, plus a wait strategy.
 */
import type Dockerode from 'dockerode';
import { GenericContainer, getContainerRuntimeClient, type WaitStrategy } from 'testcontainers';

/** Waits for the container to exit, whatever its exit code (a failure is what we are here to observe). */
class ExitWaitStrategy implements WaitStrategy {
  #timeoutMs = 60_000;
  #set = false;
  signal: AbortSignal | undefined;
  async waitUntilReady(container: Dockerode.Container): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    // Rejecting makes testcontainers stop and remove the container (waitForContainer's clean-up).
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ContainerTimeoutError(this.#timeoutMs)), this.#timeoutMs);
      onAbort = () => reject(new ContainerAbortedError());
      if (this.signal?.aborted) onAbort();
      this.signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([container.wait(), limit]);
    } finally {
      clearTimeout(timer);
      if (onAbort) this.signal?.removeEventListener('abort', onAbort);
    }
  }
  withStartupTimeout(ms: number): this {
    this.#timeoutMs = ms;
    this.#set = true;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return this.#set;
  }
  getStartupTimeout(): number {
    return this.#timeoutMs;
  }
}

export class ContainerTimeoutError extends Error {
  override name = 'ContainerTimeoutError';
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`the container did not exit within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

export class ContainerAbortedError extends Error {
  override name = 'ContainerAbortedError';
  constructor() {
    super('the run was interrupted; the container was removed');
  }
}

/** Keeps the last `limit` characters of a stream: QEMU's translation log can be megabytes; its end is what matters. */
class TailBuffer {
  #text = '';
  readonly #limit: number;
  constructor(limit: number) {
    this.#limit = limit;
  }
  push(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > this.#limit * 2) this.#text = this.#text.slice(-this.#limit);
  }
  toString(): string {
    return this.#text.length > this.#limit ? this.#text.slice(-this.#limit) : this.#text;
  }
}

export interface OneShotResult {
  exitCode?: number;
  timedOut: boolean;
  /** stdout and stderr as Docker delivered them (interleaved), the tail only. */
  output: string;
  /** Wall time of create + start + run + exit, as the caller waits for it. */
  wallMs: number;
  /** From Docker's StartedAt to FinishedAt: the process itself. */
  runMs?: number;
  oomKilled?: boolean;
  containerId?: string;
  /** The container could not be created or started (pull failure, unknown entrypoint, …). */
  startError?: string;
  /** Stopped by the run being interrupted (Ctrl-C), not by itself. */
  interrupted?: boolean;
}

export class OneShotContainer extends GenericContainer {
  #tail = new TailBuffer(256 * 1024);
  #logsDone: Promise<void> = Promise.resolve();
  readonly #exitWait = new ExitWaitStrategy();

  constructor(image: string) {
    super(image);
    this.hostConfig.Init = true; // docker run --init: docker-init (tini) as PID 1 reaps and forwards signals
    this.withWaitStrategy(this.#exitWait);
    this.withLogConsumer((stream) => {
      this.#logsDone = new Promise((resolve) => {
        stream.on('data', (c: Buffer | string) => this.#tail.push(String(c)));
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
    });
  }

  /** The whole run, not just start-up: the wait strategy's timeout is the time to exit. */
  withHardTimeout(ms: number): this {
    return this.withStartupTimeout(ms);
  }

  /** Abort: the container is stopped and removed at once, and run() reports it as interrupted. */
  withSignal(signal: AbortSignal): this {
    this.#exitWait.signal = signal;
    return this;
  }

  withTailLimit(chars: number): this {
    this.#tail = new TailBuffer(chars);
    return this;
  }

  /** Run to the end (or the timeout) and remove the container. Never throws for the container's own failure. */
  async run(): Promise<OneShotResult> {
    const started = performance.now();
    const wall = () => Math.round(performance.now() - started);
    let container;
    try {
      container = await this.start();
    } catch (err) {
      await this.#settleLogs();
      if (err instanceof ContainerTimeoutError) {
        // testcontainers has already stopped and removed the container (waitForContainer's clean-up).
        return { timedOut: true, output: this.#tail.toString(), wallMs: wall() };
      }
      if (err instanceof ContainerAbortedError) {
        return { timedOut: false, interrupted: true, output: this.#tail.toString(), wallMs: wall() };
      }
      return { timedOut: false, output: this.#tail.toString(), wallMs: wall(), startError: (err as Error).message };
    }
    const client = await getContainerRuntimeClient();
    const inspect = await client.container.getById(container.getId()).inspect();
    await this.#settleLogs();
    const state = inspect.State as { ExitCode?: number; StartedAt?: string; FinishedAt?: string; OOMKilled?: boolean };
    const result: OneShotResult = { timedOut: false, output: this.#tail.toString(), wallMs: wall(), containerId: container.getId() };
    if (state.ExitCode !== undefined) result.exitCode = state.ExitCode;
    if (state.OOMKilled) result.oomKilled = true;
    const runMs = Date.parse(state.FinishedAt ?? '') - Date.parse(state.StartedAt ?? '');
    // A process that ends within microseconds can show FinishedAt a hair before StartedAt (docker records StartedAt
    // after the process began): its run time is below the clock's resolution, i.e. 0.
    if (Number.isFinite(runMs)) result.runMs = Math.max(0, runMs);
    await container.stop({ remove: true, timeout: 0 }).catch(() => undefined);
    return result;
  }

  /** The log stream ends when the container exits; do not wait forever if the daemon never closes it. */
  async #settleLogs(): Promise<void> {
    await Promise.race([this.#logsDone, new Promise((r) => setTimeout(r, 2_000).unref())]);
  }
}
