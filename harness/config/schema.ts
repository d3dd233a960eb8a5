/**
 * meshcheck.config.ts as data: a zod schema with defaults, so a config is validated once, with messages that name
 * the bad key and the allowed values, and everything downstream reads one resolved shape.
 */
import { z } from 'zod';
import { DEFAULT_ISTIO_VERSION, DEFAULT_KIND_NODE_IMAGE } from '../defaults.ts';

export const SUITES = ['traffic', 'mtls', 'retry', 'ingress', 'crash', 'latency'] as const;
export type SuiteName = (typeof SUITES)[number];

const cellSchema = z.strictObject({
  provider: z.enum(['kind', 'existing']).default('kind'),
  arch: z.enum(['amd64', 'arm64']),
  mode: z.enum(['native', 'emulated', 'hybrid']),
  /** For provider existing: the kubeconfig and context. */
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});

const durationMs = z.number().int().positive();

export const configSchema = z.strictObject({
  mesh: z
    .strictObject({
      name: z.literal('istio').default('istio'),
      versions: z.array(z.string().regex(/^\d+\.\d+\.\d+(-[\w.]+)?$/, 'must be an Istio version such as 1.27.0')).min(1).default([DEFAULT_ISTIO_VERSION]),
      profile: z.string().default('default'),
      hub: z.string().default('docker.io/istio'),
      /** Test both Istio APIs and Gateway API for routing. */
      apis: z.array(z.enum(['istio', 'gateway-api'])).min(1).default(['istio', 'gateway-api']),
    })
    .prefault({}),
  cells: z
    .array(cellSchema)
    .min(1)
    .default([
      { provider: 'kind', arch: 'amd64', mode: 'native' },
      { provider: 'kind', arch: 'arm64', mode: 'native' },
      { provider: 'kind', arch: 'arm64', mode: 'emulated' },
      { provider: 'kind', arch: 'arm64', mode: 'hybrid' },
    ]),
  suites: z.array(z.enum(SUITES)).min(1).default([...SUITES]),
  kind: z.strictObject({ nodeImage: z.string().default(DEFAULT_KIND_NODE_IMAGE), workers: z.number().int().min(0).default(1) }).prefault({}),
  images: z
    .strictObject({
      /** The echo workload (suites/workloads/echo). */
      echo: z.string().default('ghcr.io/meshcheck/echo:1'),
    })
    .prefault({}),
  /** Registries spoken to over plain HTTP (host:port). */
  insecureRegistries: z.array(z.string()).default([]),
  preflight: z
    .strictObject({
      doctor: z.boolean().default(true),
      audit: z.boolean().default(true),
      smoke: z.enum(['auto', 'always', 'never']).default('auto'),
      latency: z.strictObject({ enabled: z.boolean().default(true), rates: z.array(z.number().positive()).default([100]), durationMs: durationMs.default(5_000), reps: z.number().int().positive().default(1) }).prefault({}),
    })
    .prefault({}),
  timeouts: z
    .strictObject({
      clusterUpMs: durationMs.default(600_000),
      meshInstallMs: durationMs.default(300_000),
      /** A check converges when it sees `consecutive` successes in a row within this time (× the cell's factor). */
      convergenceMs: durationMs.default(60_000),
      checkMs: durationMs.default(120_000),
    })
    .prefault({}),
  convergence: z.strictObject({ consecutive: z.number().int().positive().default(3) }).prefault({}),
  /** Where reports are written. */
  reportsDir: z.string().default('reports/out'),
});

export type MeshcheckConfigInput = z.input<typeof configSchema>;
export type MeshcheckConfig = z.output<typeof configSchema>;
export type CellConfig = MeshcheckConfig['cells'][number];

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`${source} is not a valid meshcheck config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Validate and fill defaults; every problem names its key. */
export function parseConfig(input: unknown, source = 'the config'): MeshcheckConfig {
  const r = configSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  throw new ConfigError(
    source,
    r.error.issues.map((i) => {
      const key = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
      return `${key}: ${i.message}`;
    }),
  );
}
