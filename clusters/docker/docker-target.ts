/**
 * The Docker target: run images for a platform, natively or through QEMU binfmt, one command each, labelled with
 * the run and reaped by label. Lifecycle as testcontainers' types: DockerTarget (builder) → start() →
 * StartedDockerTarget → stop() → StoppedDockerTarget.
 */
import { getContainerRuntimeClient } from 'testcontainers';
import type Dockerode from 'dockerode';
import { InfrastructureError } from '../../harness/errors.ts';
import { newRunId, runLabels } from '../../harness/labels.ts';
import { OneShotContainer, type OneShotResult } from './one-shot-container.ts';
import { type Reaped, reapOrphans, reapRun } from './reaper.ts';
import { type ServiceSpec, type StartedService, startService } from './service-container.ts';

export interface RunSpec {
  /** Image reference; pass a single-platform digest (repo@sha256:…) so the platform is never ambiguous. */
  image: string;
  platform: string;
  entrypoint?: string[];
  command?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Extra labels (e.g. which smoke check this is). */
  labels?: Record<string, string>;
}

export interface RunResult extends OneShotResult {
  spec: RunSpec;
}

export class DockerTarget {
  #runId = newRunId();
  #timeoutMs = 60_000;
  #env: Record<string, string | undefined> = process.env;

  withRunId(runId: string): this {
    this.#runId = runId;
    return this;
  }

  withDefaultTimeout(ms: number): this {
    this.#timeoutMs = ms;
    return this;
  }

  withEnv(env: Record<string, string | undefined>): this {
    this.#env = env;
    return this;
  }

  async start(): Promise<StartedDockerTarget> {
    // testcontainers' reaper (Ryuk) is an image pulled from Docker Hub; meshcheck reaps by its own labels instead,
    // so it works where nothing can be pulled. An explicit TESTCONTAINERS_RYUK_DISABLED=false is respected.
    if (process.env.TESTCONTAINERS_RYUK_DISABLED === undefined) process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    if (this.#env.DOCKER_HOST && !process.env.DOCKER_HOST) process.env.DOCKER_HOST = this.#env.DOCKER_HOST;
    let docker: Dockerode;
    try {
      docker = (await getContainerRuntimeClient()).container.dockerode;
    } catch (err) {
      throw new InfrastructureError(
        `no Docker engine answers (${(err as Error).message})`,
        'start Docker (Linux: dockerd; Debian/Ubuntu test bed: `npm run testbed -- up`), or set DOCKER_HOST',
        err,
      );
    }
    const reaped = await reapOrphans(docker);
    return new StartedDockerTarget(docker, this.#runId, this.#timeoutMs, reaped);
  }
}

export class StartedDockerTarget implements AsyncDisposable {
  readonly runId: string;
  /** What earlier, dead runs had left behind and this start removed. */
  readonly reapedAtStart: Reaped;
  readonly #docker: Dockerode;
  readonly #timeoutMs: number;
  /** Aborted by stop(): runs in flight end at once, and no new container is started. */
  readonly #stopping = new AbortController();

  constructor(docker: Dockerode, runId: string, timeoutMs: number, reaped: Reaped) {
    this.#docker = docker;
    this.runId = runId;
    this.#timeoutMs = timeoutMs;
    this.reapedAtStart = reaped;
  }

  /**
   * Pull for the platform first, ourselves: the daemon reports a pull failure (e.g. "no matching manifest for
   * linux/arm64 in the manifest list entries") only inside the progress stream, and that text is the evidence.
   */
  async pull(image: string, platform: string): Promise<string | undefined> {
    try {
      const stream = await this.#docker.pull(image, { platform });
      const events = await new Promise<Array<{ error?: string }>>((resolve, reject) => {
        this.#docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => (err ? reject(err) : resolve(output)));
      });
      return events.find((e) => e.error)?.error;
    } catch (err) {
      return (err as Error).message;
    }
  }

  async run(spec: RunSpec): Promise<RunResult> {
    if (this.#stopping.signal.aborted) return { timedOut: false, interrupted: true, output: '', wallMs: 0, spec };
    const started = performance.now();
    const pullError = await this.pull(spec.image, spec.platform);
    if (pullError) return { timedOut: false, output: pullError, wallMs: Math.round(performance.now() - started), startError: pullError, spec };
    const c = new OneShotContainer(spec.image)
      .withPlatform(spec.platform)
      .withLabels({ ...runLabels(this.runId), ...(spec.labels ?? {}) })
      .withHardTimeout(spec.timeoutMs ?? this.#timeoutMs)
      .withSignal(this.#stopping.signal);
    if (spec.entrypoint) c.withEntrypoint(spec.entrypoint);
    if (spec.command) c.withCommand(spec.command);
    if (spec.env) c.withEnvironment(spec.env);
    return { ...(await c.run()), spec };
  }

  /** Start a long-running workload for a platform and wait until it answers; it carries this run's labels. */
  async startService(spec: Omit<ServiceSpec, 'labels' | 'startupTimeoutMs'> & { startupTimeoutMs?: number; labels?: Record<string, string> }): Promise<StartedService> {
    if (this.#stopping.signal.aborted) throw new InfrastructureError('the Docker target is stopping: no new containers');
    const pullError = await this.pull(spec.image, spec.platform);
    if (pullError) throw new InfrastructureError(`cannot pull ${spec.image} for ${spec.platform}: ${pullError}`);
    return startService({ ...spec, labels: { ...runLabels(this.runId), ...(spec.labels ?? {}) }, startupTimeoutMs: spec.startupTimeoutMs ?? this.#timeoutMs });
  }

  async stop(): Promise<StoppedDockerTarget> {
    this.#stopping.abort();
    const reaped = await reapRun(this.#docker, this.runId);
    return new StoppedDockerTarget(this.runId, reaped);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export class StoppedDockerTarget {
  readonly runId: string;
  /** Left-overs of this run removed at stop (normally none: each container is removed when it exits). */
  readonly reaped: Reaped;
  constructor(runId: string, reaped: Reaped) {
    this.runId = runId;
    this.reaped = reaped;
  }
}
