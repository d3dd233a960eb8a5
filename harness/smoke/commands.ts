/**
 * What smoke runs in each image: the image's own binary with an argument that makes it print its version and exit,
 * so a run proves the binary starts on the platform without starting a server. Matched on the repository name's
 * last component; everything else gets its entrypoint with `--version`. All of it can be overridden.
 */
export interface SmokeCommand {
  /** Replaces the image's entrypoint when given. */
  entrypoint?: string[];
  /** Arguments (the image's Cmd is replaced). */
  args: string[];
  /** For people: "envoy --version". */
  label: string;
}

/** Istio's images (manifests/charts and the Dockerfiles under pilot/docker/): the binaries and their version verbs. */
const KNOWN: Readonly<Record<string, SmokeCommand[]>> = {
  pilot: [{ entrypoint: ['/usr/local/bin/pilot-discovery'], args: ['version'], label: 'pilot-discovery version' }],
  proxyv2: [
    // Envoy is the C++ binary with the ISA history; pilot-agent is the Go binary that starts it.
    { entrypoint: ['/usr/local/bin/envoy'], args: ['--version'], label: 'envoy --version' },
    { entrypoint: ['/usr/local/bin/pilot-agent'], args: ['version'], label: 'pilot-agent version' },
  ],
  'install-cni': [{ entrypoint: ['/usr/local/bin/install-cni'], args: ['version'], label: 'install-cni version' }],
  ztunnel: [{ entrypoint: ['/usr/local/bin/ztunnel'], args: ['--version'], label: 'ztunnel --version' }],
  envoy: [{ entrypoint: ['/usr/local/bin/envoy'], args: ['--version'], label: 'envoy --version' }],
};

export function defaultCommands(repository: string): SmokeCommand[] {
  const name = repository.split('/').at(-1) ?? repository;
  return KNOWN[name] ?? [{ args: ['--version'], label: 'entrypoint --version' }];
}

/** `--command "/bin/app serve --check"` from the CLI: split on blanks (no shell, no quoting). */
export function parseCommandOverride(text: string): SmokeCommand {
  const parts = text.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return { args: [], label: 'entrypoint' };
  const [first, ...rest] = parts as [string, ...string[]];
  return first.startsWith('/') ? { entrypoint: [first], args: rest, label: parts.join(' ') } : { args: parts, label: `entrypoint ${parts.join(' ')}` };
}
