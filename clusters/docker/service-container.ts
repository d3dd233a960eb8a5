/**
 * A long-running container (a workload such as the echo server) on the Docker target: init process, labels,
 * one exposed port mapped on loopback, ready when an HTTP path answers 200 — testcontainers' Wait.forHttp, whose
 * timeout error names the limit.
 */
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';

export class ServiceContainer extends GenericContainer {
  constructor(image: string) {
    super(image);
    this.hostConfig.Init = true; // see one-shot-container.ts: an emulated PID 1 that dies of a signal hangs
  }
}

export interface StartedService extends AsyncDisposable {
  /** http://127.0.0.1:<mapped port> */
  url: string;
  /** 127.0.0.1:<mapped port> of each extra port, by container port. */
  ports: Record<number, string>;
  containerId: string;
  stop(): Promise<void>;
}

export interface ServiceSpec {
  image: string;
  platform: string;
  port: number;
  readyPath: string;
  env?: Record<string, string>;
  labels: Record<string, string>;
  startupTimeoutMs: number;
  /** More container ports to publish (e.g. a TLS port). */
  extraPorts?: number[];
  /** Files written into the container before it starts (certificates, configs). */
  files?: { content: string; target: string }[];
}

export async function startService(spec: ServiceSpec): Promise<StartedService> {
  const container: StartedTestContainer = await new ServiceContainer(spec.image)
    .withPlatform(spec.platform)
    .withLabels(spec.labels)
    .withEnvironment(spec.env ?? {})
    .withExposedPorts(spec.port, ...(spec.extraPorts ?? []))
    .withCopyContentToContainer(spec.files ?? [])
    .withWaitStrategy(Wait.forHttp(spec.readyPath, spec.port).forStatusCode(200))
    .withStartupTimeout(spec.startupTimeoutMs)
    .start();
  const host = container.getHost() === 'localhost' ? '127.0.0.1' : container.getHost();
  const url = `http://${host}:${container.getMappedPort(spec.port)}`;
  const ports = Object.fromEntries([spec.port, ...(spec.extraPorts ?? [])].map((p) => [p, `${host}:${container.getMappedPort(p)}`]));
  const stop = async () => {
    await container.stop({ remove: true, timeout: 5_000 }).catch(() => undefined);
  };
  return { url, ports, containerId: container.getId(), stop, [Symbol.asyncDispose]: stop };
}
