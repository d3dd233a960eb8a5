/** Flags and parsing shared by the commands that take a set of images (audit, smoke). */
import type { Command } from 'commander';
import { parsePlatform, PlatformSyntaxError, type Platform } from '../../arch/platform.ts';
import type { ImageSources } from '../../audit/collect-images.ts';
import { InfrastructureError, UsageError } from '../../errors.ts';

export interface ImageSourceFlags {
  from?: string[];
  istio?: string;
  hub?: string;
  ambient?: boolean;
  variant?: string;
  platform: string;
  insecureRegistry?: string[];
  json?: boolean;
  allow?: string;
}

/** commander's accumulator for repeatable flags. */
export const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * A tool's path: the flag, else PATH. Missing: its bare name in a dry run (the plan still reads right), else an
 * InfrastructureError with how to install it.
 */
export async function locateTool(env: Record<string, string | undefined>, flag: string | undefined, name: string, install: string, dryRun: boolean): Promise<string> {
  if (flag) return flag;
  const { findOnPath } = await import('../../process/tools.ts');
  const found = await findOnPath(name, env);
  if (found) return found;
  if (dryRun) return name;
  throw new InfrastructureError(`${name} is not installed (not on PATH)`, install);
}

export function addImageSourceOptions(cmd: Command): Command {
  return cmd
    .argument('[images...]', 'image references, e.g. docker.io/istio/pilot:1.28.0')
    .option('--from <file>', 'also the images of Kubernetes YAML (a file, or - for stdin); repeatable', collect)
    .option('--istio <version>', 'also the images this Istio version deploys (pilot, proxyv2; with --ambient ztunnel, install-cni)')
    .option('--hub <hub>', 'registry/repository prefix of the Istio images (default docker.io/istio)')
    .option('--ambient', 'with --istio: the ambient profile (ztunnel and install-cni; its images are -distroless)')
    .option('--variant <variant>', 'with --istio: image variant (distroless or debug); default: the profile’s')
    .option('--platform <platforms>', 'platforms to check, comma-separated', 'linux/amd64,linux/arm64')
    .option('--insecure-registry <host>', 'speak plain HTTP to this registry host[:port]; repeatable', collect)
    .option('--json', 'print the report as JSON');
}

export function parsePlatforms(text: string): Platform[] {
  let platforms: Platform[];
  try {
    platforms = text
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map(parsePlatform);
  } catch (err) {
    if (err instanceof PlatformSyntaxError) throw new UsageError(`--platform: ${err.message}`);
    throw err;
  }
  if (platforms.length === 0) throw new UsageError('--platform: name at least one platform, e.g. linux/arm64');
  return platforms;
}

export function parsePositive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag}: "${v}" is not a positive whole number`);
  return n;
}

/** Verdict names given to --allow, checked against the command's vocabulary. */
export function parseAllow(text: string | undefined, vocabulary: readonly string[]): Set<string> {
  const allow = new Set<string>();
  for (const v of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!vocabulary.includes(v)) throw new UsageError(`--allow: "${v}" is not a verdict (one of ${vocabulary.join(', ')})`);
    allow.add(v);
  }
  return allow;
}

export function imageSources(images: string[], flags: ImageSourceFlags): ImageSources {
  if ((flags.hub || flags.ambient || flags.variant) && !flags.istio) throw new UsageError('--hub, --ambient and --variant need --istio VERSION');
  if (flags.variant && !['distroless', 'debug'].includes(flags.variant)) {
    throw new UsageError(`--variant: "${flags.variant}" is not an Istio image variant (distroless or debug)`);
  }
  return {
    images,
    from: flags.from ?? [],
    ...(flags.istio
      ? {
          istio: {
            version: flags.istio,
            ...(flags.hub ? { hub: flags.hub } : {}),
            ...(flags.variant ? { variant: flags.variant as 'distroless' | 'debug' } : {}),
            ambient: Boolean(flags.ambient),
          },
        }
      : {}),
  };
}

export function noImagesError(problems: Array<{ from: string; message: string }>): UsageError {
  return new UsageError(
    problems.length ? `no images: ${problems.map((p) => `${p.from}: ${p.message}`).join('; ')}` : 'no images given',
    'name images as arguments, or use --from FILE or --istio VERSION',
  );
}
