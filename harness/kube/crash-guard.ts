/**
 * The crash guard: watches every pod of the cluster for the whole run and fails the run when a container hits an
 * architecture failure — exec format error, illegal instruction (exit 132), SIGSEGV, SIGBUS, a page-size failure,
 * ImagePullBackOff for a missing platform — or any CrashLoopBackOff. Each failure names the pod, container,
 * image, the node and its architecture, and the image's platforms (from the registry, like the audit).
 *
 * Lifecycle as elsewhere: `new CrashGuard(client, options)` → `start()` → `StartedCrashGuard` → `stop()` → the
 * verdict. Detection rides on a resilient watch (watch.ts); evidence that takes requests (the pod's events, the
 * last log lines of the previous run, the image's platforms) is gathered once per failure, in the background.
 */
import type * as k8s from '@kubernetes/client-node';
import type { FailureKind } from '../arch/classify.ts';
import type { KubeClient } from './client.ts';
import { type ContainerFailure, podFailures } from './pod-failures.ts';
import { watchResilient, type WatchHandle } from './watch.ts';

/** Failure kinds that fail the run wherever they appear. */
export const FATAL_KINDS: ReadonlySet<FailureKind> = new Set([
  'exec-format-error',
  'illegal-instruction',
  'segfault',
  'bus-error',
  'page-size',
  'missing-platform',
  'emulator-crash',
]);

export interface GuardedFailure extends ContainerFailure {
  /** Fails the run (an architecture failure or a crash loop); otherwise reported as a warning. */
  fatal: boolean;
  /** Platforms the image offers, when the registry could be asked. */
  imagePlatforms?: string[];
  firstSeen: string;
  lastSeen: string;
}

export interface CrashVerdict {
  ok: boolean;
  failures: GuardedFailure[];
  /** Distinct pods seen during the run. */
  podsSeen: number;
  watchRequests: number;
  startedAt: string;
  stoppedAt: string;
}

export interface CrashGuardOptions {
  /** Only these namespaces (default: the whole cluster). */
  namespaces?: string[];
  /** The platforms of an image (e.g. registry/pin.ts imagePlatforms with the audit's client). */
  imagePlatforms?: (image: string) => Promise<string[] | undefined>;
  /** Read the last log lines of a failed container (through the kubelet; off when nodes serve no logs). */
  readLogs?: boolean;
  now?: () => Date;
}

export function isFatal(f: ContainerFailure): boolean {
  return FATAL_KINDS.has(f.classification.kind) || f.fields.waiting?.reason === 'CrashLoopBackOff';
}

function key(f: ContainerFailure): string {
  return `${f.namespace}/${f.pod}/${f.role}/${f.container}`;
}

export class CrashGuard {
  readonly #client: KubeClient;
  readonly #o: CrashGuardOptions;
  constructor(client: KubeClient, o: CrashGuardOptions = {}) {
    this.#client = client;
    this.#o = o;
  }

  async start(): Promise<StartedCrashGuard> {
    const guard = new StartedCrashGuard(this.#client, this.#o);
    await guard.begin();
    return guard;
  }
}

export class StartedCrashGuard {
  readonly #client: KubeClient;
  readonly #o: CrashGuardOptions;
  readonly #abort = new AbortController();
  readonly #failures = new Map<string, GuardedFailure>();
  readonly #pods = new Set<string>();
  readonly #nodeArch = new Map<string, string>();
  readonly #pending = new Set<Promise<void>>();
  readonly #listeners = new Set<(f: GuardedFailure) => void>();
  #watches: WatchHandle[] = [];
  #startedAt = '';

  constructor(client: KubeClient, o: CrashGuardOptions) {
    this.#client = client;
    this.#o = o;
  }

  #now(): string {
    return (this.#o.now?.() ?? new Date()).toISOString();
  }

  async begin(): Promise<void> {
    this.#startedAt = this.#now();
    await this.#refreshNodes();
    const paths = this.#o.namespaces?.length ? this.#o.namespaces.map((ns) => `/api/v1/namespaces/${ns}/pods`) : ['/api/v1/pods'];
    this.#watches = paths.map((p) =>
      watchResilient<k8s.V1Pod>(this.#client, {
        path: p,
        signal: this.#abort.signal,
        onEvent: (type, pod) => {
          if (type !== 'DELETED') this.#observe(pod);
        },
      }),
    );
  }

  async #refreshNodes(): Promise<void> {
    const nodes = await this.#client.core.listNode().catch(() => undefined);
    for (const n of nodes?.items ?? []) {
      const arch = n.metadata?.labels?.['kubernetes.io/arch'] ?? n.status?.nodeInfo?.architecture;
      if (n.metadata?.name && arch) this.#nodeArch.set(n.metadata.name, arch);
    }
  }

  #observe(pod: k8s.V1Pod): void {
    this.#pods.add(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
    const node = pod.spec?.nodeName;
    if (node && !this.#nodeArch.has(node)) this.#track(this.#refreshNodes().then(() => this.#observe(pod)));
    const found = podFailures(pod, { nodeArch: (n) => this.#nodeArch.get(n) });
    const now = this.#now();
    for (const f of found) {
      const k = key(f);
      const prior = this.#failures.get(k);
      const g: GuardedFailure = { ...f, fatal: isFatal(f), firstSeen: prior?.firstSeen ?? now, lastSeen: now, ...(prior?.imagePlatforms ? { imagePlatforms: prior.imagePlatforms } : {}) };
      // Keep the strongest evidence: a fatal verdict is never downgraded by a later, vaguer status.
      if (prior?.fatal && !g.fatal) continue;
      this.#failures.set(k, g);
      if (!prior) {
        this.#track(this.#enrich(k, pod));
        for (const l of this.#listeners) l(g);
      }
    }
  }

  #track(p: Promise<void>): void {
    const q = p.catch(() => undefined).finally(() => this.#pending.delete(q));
    this.#pending.add(q);
  }

  /** Events, previous logs and the image's platforms, then classify again with them. */
  async #enrich(k: string, pod: k8s.V1Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const f = this.#failures.get(k);
    if (!f) return;
    const events = await this.#client.core
      .listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` })
      .then((l) => l.items)
      .catch(() => [] as k8s.CoreV1Event[]);
    let logs: string | undefined;
    if (this.#o.readLogs) {
      logs = await this.#client.core
        .readNamespacedPodLog({ name, namespace: ns, container: f.container, previous: f.restartCount > 0, tailLines: 20 })
        .catch(() => undefined);
    }
    const platforms = await this.#o.imagePlatforms?.(f.image).catch(() => undefined);
    const latest = await this.#client.core.readNamespacedPod({ name, namespace: ns }).catch(() => pod);
    const again = podFailures(latest, { nodeArch: (n) => this.#nodeArch.get(n), events, logTail: () => logs }).find((x) => key(x) === k);
    const current = this.#failures.get(k) ?? f;
    const next: GuardedFailure = { ...current, ...(again ?? {}), fatal: again ? isFatal(again) || current.fatal : current.fatal, firstSeen: current.firstSeen, lastSeen: current.lastSeen };
    if (platforms) next.imagePlatforms = platforms;
    this.#failures.set(k, next);
  }

  /** Called once per new failure (for progress lines). */
  onFailure(listener: (f: GuardedFailure) => void): void {
    this.#listeners.add(listener);
  }

  /** The failures so far. */
  failures(): GuardedFailure[] {
    return [...this.#failures.values()];
  }

  async stop(): Promise<CrashVerdict> {
    this.#abort.abort();
    await Promise.all(this.#watches.map((w) => w.done.catch(() => undefined)));
    while (this.#pending.size) await Promise.all([...this.#pending]);
    const failures = this.failures().sort((a, b) => key(a).localeCompare(key(b)));
    return {
      ok: !failures.some((f) => f.fatal),
      failures,
      podsSeen: this.#pods.size,
      watchRequests: this.#watches.reduce((n, w) => n + w.requests(), 0),
      startedAt: this.#startedAt,
      stoppedAt: this.#now(),
    };
  }
}

/** One line per failure, for people. */
export function renderVerdict(v: CrashVerdict): string {
  if (!v.failures.length) return `crash guard: no container failed (${v.podsSeen} pods watched)`;
  const lines = v.failures.map(
    (f) =>
      `  ${f.fatal ? 'FAIL' : 'warn'} ${f.namespace}/${f.pod} container ${f.container} image ${f.image}` +
      `${f.imagePlatforms ? ` [${f.imagePlatforms.join(', ')}]` : ''} on ${f.nodeArch ?? '?'} node ${f.nodeName ?? '?'}: ` +
      `${f.classification.kind} — ${f.classification.summary}${f.classification.evidence ? ` («${f.classification.evidence}»)` : ''}`,
  );
  return `crash guard: ${v.ok ? 'no architecture failure' : 'FAILED'} (${v.failures.length} container failure(s), ${v.podsSeen} pods watched)\n${lines.join('\n')}`;
}
