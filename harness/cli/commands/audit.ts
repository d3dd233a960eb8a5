/** `meshcheck audit`: which image × platform would fail with "exec format error", before any cluster starts. */
import { Command, Option } from 'commander';
import { parsePlatform, PlatformSyntaxError, type Platform } from '../../arch/platform.ts';
import type { AuditInput } from '../../audit/run-audit.ts';
import { AUDIT_VERDICTS, type AuditVerdict } from '../../audit/vocabulary.ts';
import type { Context } from '../../context.ts';
import { MeshcheckError, UsageError } from '../../errors.ts';
import { meshcheckVersion } from '../../version.ts';

interface AuditFlags {
  from?: string[];
  istio?: string;
  hub?: string;
  ambient?: boolean;
  variant?: string;
  platform: string;
  deep?: boolean;
  insecureRegistry?: string[];
  json?: boolean;
  allow?: string;
  concurrency: string;
  timeout: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function parsePlatforms(text: string): Platform[] {
  try {
    return text
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map(parsePlatform);
  } catch (err) {
    if (err instanceof PlatformSyntaxError) throw new UsageError(`--platform: ${err.message}`);
    throw err;
  }
}

function parsePositive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag}: "${v}" is not a positive whole number`);
  return n;
}

export function auditCommand(ctx: Context): Command {
  return new Command('audit')
    .description('read images from their registries and say, per platform, whether a node would run them (no cluster, no pulls)')
    .argument('[images...]', 'image references, e.g. docker.io/istio/pilot:1.28.0')
    .option('--from <file>', 'also audit the images of Kubernetes YAML (a file, or - for stdin); repeatable', collect)
    .option('--istio <version>', 'also audit the images this Istio version deploys (pilot, proxyv2; with --ambient ztunnel, install-cni)')
    .option('--hub <hub>', 'registry/repository prefix of the Istio images (default docker.io/istio)')
    .option('--ambient', 'with --istio: the ambient profile (ztunnel and install-cni; its images are -distroless)')
    .option('--variant <variant>', 'with --istio: image variant (distroless or debug); default: the profile’s')
    .option('--platform <platforms>', 'platforms to check, comma-separated', 'linux/amd64,linux/arm64')
    .option('--deep', 'also read the entrypoint binary from the layers and check its ELF machine and page alignment')
    .option('--insecure-registry <host>', 'speak plain HTTP to this registry host[:port]; repeatable', collect)
    .addOption(new Option('--allow <verdicts>', `verdicts that do not fail the audit, comma-separated (e.g. page-size-risk)`))
    .option('--concurrency <n>', 'registry requests in flight at once', '8')
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '30000')
    .option('--json', 'print the report as JSON (schema meshcheck.audit/v1)')
    .addHelpText(
      'after',
      `
Verdicts (per image × platform):
  ok                the platform's entry exists, its config agrees${' '}(and with --deep, its entrypoint binary does)
  missing-platform  no entry for the platform: a node of it cannot pull the image
  config-mismatch   the index lists the entry as one platform, its config says another
  binary-mismatch   (--deep) the entrypoint binary or its #! interpreter is for another machine
  page-size-risk    (--deep) an arm64 binary aligned below 64 KiB: fails on 64 KiB-page kernels
  not-found         the image or tag does not exist
  unreachable       the registry could not be asked (the reason says why: network, auth, malformed, limits)

Audit exit codes: 0 all ok, 1 a failing verdict, 2 usage error, 3 nothing could be checked.

Examples:
  meshcheck audit docker.io/istio/pilot:1.28.0 docker.io/istio/proxyv2:1.28.0
  meshcheck audit --istio 1.28.0 --ambient --deep
  kubectl get pods -A -o yaml | meshcheck audit --from - --json
  meshcheck audit --insecure-registry 127.0.0.1:5000 127.0.0.1:5000/team/app:1`,
    )
    .action(async (images: string[], flags: AuditFlags) => {
      const platforms = parsePlatforms(flags.platform);
      if (platforms.length === 0) throw new UsageError('--platform: name at least one platform, e.g. linux/arm64');
      const allow = new Set<AuditVerdict>();
      for (const v of (flags.allow ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!(AUDIT_VERDICTS as readonly string[]).includes(v)) throw new UsageError(`--allow: "${v}" is not a verdict (one of ${AUDIT_VERDICTS.join(', ')})`);
        allow.add(v as AuditVerdict);
      }
      if ((flags.hub || flags.ambient || flags.variant) && !flags.istio) throw new UsageError('--hub, --ambient and --variant need --istio VERSION');
      if (flags.variant && !['distroless', 'debug'].includes(flags.variant)) throw new UsageError(`--variant: "${flags.variant}" is not an Istio image variant (distroless or debug)`);
      const concurrency = parsePositive('--concurrency', flags.concurrency);
      const timeoutMs = parsePositive('--timeout', flags.timeout);
      // Loaded only when the command runs: `--help` and other commands start faster without undici, zod and yaml.
      const [{ collectImages }, { RegistryClient }, { runAudit }, { renderAudit }] = await Promise.all([
        import('../../audit/collect-images.ts'),
        import('../../registry/client.ts'),
        import('../../audit/run-audit.ts'),
        import('../../audit/render.ts'),
      ]);
      const { inputs, problems } = await collectImages(ctx, {
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
      });
      if (inputs.length === 0) {
        throw new UsageError(
          problems.length ? `no images to audit: ${problems.map((p) => `${p.from}: ${p.message}`).join('; ')}` : 'no images to audit',
          'name images as arguments, or use --from FILE or --istio VERSION',
        );
      }
      await using client = new RegistryClient({
        insecureHosts: flags.insecureRegistry ?? [],
        concurrency,
        timeoutMs,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        onRetry: ({ url, attempt, delayMs, reason }) => ctx.io.err(`retry ${attempt} in ${delayMs} ms: ${reason} (${new URL(url).host})\n`),
      });
      const report = await runAudit(client, inputs satisfies AuditInput[], {
        platforms,
        deep: Boolean(flags.deep),
        allow,
        problems,
        meshcheckVersion: meshcheckVersion(),
        now: ctx.now(),
        onImage: (done, total, entry) => {
          const verdicts = entry.error ? 'invalid' : entry.platforms.map((p) => `${p.platform}=${p.verdict}`).join(' ');
          ctx.io.err(`[${done}/${total}] ${entry.image}: ${verdicts}\n`);
        },
      });
      ctx.io.out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderAudit(report));
      if (report.exitCode === 1) throw new MeshcheckError(`${report.summary.failing} image × platform check(s) failed`, { category: 'check-failed' });
      if (report.exitCode === 3) throw new MeshcheckError('nothing could be checked: every image was not found or unreachable', { category: 'infrastructure', fix: 'check the registry addresses, network and credentials (docker login)' });
      if (report.exitCode === 2) throw new UsageError('none of the inputs is an image reference', 'see the reasons above');
    });
}
