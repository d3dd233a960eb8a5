/** `meshcheck audit`: which image × platform would fail with "exec format error", before any cluster starts. */
import { Command, Option } from 'commander';
import type { AuditInput } from '../../audit/run-audit.ts';
import { AUDIT_VERDICTS, type AuditVerdict } from '../../audit/vocabulary.ts';
import type { Context } from '../../context.ts';
import { MeshcheckError, UsageError } from '../../errors.ts';
import { meshcheckVersion } from '../../version.ts';
import { addImageSourceOptions, imageSources, type ImageSourceFlags, noImagesError, parseAllow, parsePlatforms, parsePositive } from './shared.ts';

interface AuditFlags extends ImageSourceFlags {
  deep?: boolean;
  concurrency: string;
  timeout: string;
}

export function auditCommand(ctx: Context): Command {
  return addImageSourceOptions(
    new Command('audit').description('read images from their registries and say, per platform, whether a node would run them (no cluster, no pulls)'),
  )
    .option('--deep', 'also read the entrypoint binary from the layers and check its ELF machine and page alignment')
    .addOption(new Option('--allow <verdicts>', 'verdicts that do not fail the audit, comma-separated (e.g. page-size-risk)'))
    .option('--concurrency <n>', 'registry requests in flight at once', '8')
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '30000')
    .addHelpText(
      'after',
      `
Verdicts (per image × platform; --json schema: meshcheck.audit/v1):
  ok                the platform's entry exists, its config agrees (and with --deep, its entrypoint binary does)
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
      const allow = parseAllow(flags.allow, AUDIT_VERDICTS) as Set<AuditVerdict>;
      const concurrency = parsePositive('--concurrency', flags.concurrency);
      const timeoutMs = parsePositive('--timeout', flags.timeout);
      const sources = imageSources(images, flags);
      // Loaded only when the command runs: `--help` and other commands start faster without undici, zod and yaml.
      const [{ collectImages }, { RegistryClient }, { runAudit }, { renderAudit }] = await Promise.all([
        import('../../audit/collect-images.ts'),
        import('../../registry/client.ts'),
        import('../../audit/run-audit.ts'),
        import('../../audit/render.ts'),
      ]);
      const { inputs, problems } = await collectImages(ctx, sources);
      if (inputs.length === 0) throw noImagesError(problems);
      await using client = new RegistryClient({
        insecureHosts: flags.insecureRegistry ?? [],
        concurrency,
        timeoutMs,
        signal: ctx.signal,
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
