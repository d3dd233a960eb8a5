/**
 * Finding the external programs meshcheck drives, and asking each for its version, without a shell.
 */
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './run.ts';

/** Look a program up on PATH the way execvp does. */
export async function findOnPath(name: string, env: Record<string, string | undefined> = process.env): Promise<string | undefined> {
  if (name.includes('/')) return (await isExecutable(name)) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface ToolSpec {
  name: string;
  /** What meshcheck needs it for. */
  purpose: string;
  /** Arguments that print the version. */
  versionArgs: string[];
  /** Pull the version out of the output. */
  parseVersion: (stdout: string) => string | undefined;
  /** How to get it when it is missing. */
  install: string;
  /** Needed for every run, or only for cluster runs. */
  neededFor: 'all' | 'docker-target' | 'cluster';
}

export interface ToolStatus {
  name: string;
  found: boolean;
  path?: string;
  version?: string;
  purpose: string;
  neededFor: ToolSpec['neededFor'];
  /** Present when missing or broken: what to do. */
  fix?: string;
  problem?: string;
}

const firstMatch = (re: RegExp) => (s: string) => re.exec(s)?.[1];

/** The tools of a meshcheck run. Version formats: `kind version`, `kubectl version --client`, `istioctl version`. */
export const TOOLS: readonly ToolSpec[] = [
  {
    name: 'docker',
    purpose: 'runs images for the smoke checks; kind runs its nodes as Docker containers',
    versionArgs: ['version', '--format', '{{.Client.Version}}'],
    parseVersion: (s) => s.trim().split('\n')[0] || undefined,
    install: 'install Docker Engine (Debian/Ubuntu: `apt-get install docker.io`), or run `npm run testbed -- up` as root',
    neededFor: 'docker-target',
  },
  {
    name: 'kind',
    purpose: 'creates the Kubernetes clusters of cluster runs',
    versionArgs: ['version'],
    parseVersion: firstMatch(/kind (v\d+\.\d+\.\d+\S*)/),
    install: 'install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation (or `go install sigs.k8s.io/kind@latest`)',
    neededFor: 'cluster',
  },
  {
    name: 'kubectl',
    purpose: 'collects cluster logs and state for reports',
    versionArgs: ['version', '--client', '--output=json'],
    parseVersion: (s) => {
      try {
        return (JSON.parse(s) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion;
      } catch {
        return undefined;
      }
    },
    install: 'install kubectl: https://kubernetes.io/docs/tasks/tools/',
    neededFor: 'cluster',
  },
  {
    name: 'istioctl',
    purpose: 'installs and uninstalls Istio',
    versionArgs: ['version', '--remote=false', '--short'],
    parseVersion: (s) => s.trim().split('\n').at(-1)?.trim() || undefined,
    install: 'install istioctl: https://istio.io/latest/docs/setup/getting-started/#download (or `curl -L https://istio.io/downloadIstio | sh -`)',
    neededFor: 'cluster',
  },
];

export async function probeTool(spec: ToolSpec, env: Record<string, string | undefined> = process.env): Promise<ToolStatus> {
  const base = { name: spec.name, purpose: spec.purpose, neededFor: spec.neededFor };
  const found = await findOnPath(spec.name, env);
  if (!found) return { ...base, found: false, fix: spec.install };
  const r = await runCommand(found, spec.versionArgs, { timeoutMs: 15_000, env });
  const version = spec.parseVersion(r.stdout);
  if (!version) {
    const why = r.ok ? 'printed no version' : `failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1) ?? ''}`;
    return { ...base, found: true, path: found, problem: `\`${r.command}\` ${why}`, fix: spec.install };
  }
  return { ...base, found: true, path: found, version };
}
