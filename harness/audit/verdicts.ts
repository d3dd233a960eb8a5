/**
 * The audit's verdict vocabulary: fixed, documented (README "Audit verdicts"), and relied on by other tools
 * through `meshcheck audit --json`. Pure decisions from what was read; no I/O.
 */
import type { ElfInfo } from '../arch/elf.ts';
import { formatPlatform, type Platform } from '../arch/platform.ts';
import { entryPlatform } from '../registry/platform-match.ts';
import type { ImageConfig } from '../registry/manifest.ts';

import type { AuditVerdict } from './vocabulary.ts';

export { AUDIT_VERDICTS, type AuditVerdict } from './vocabulary.ts';

/** Which verdict is reported first when several apply (most fundamental first). */
const PRECEDENCE: readonly AuditVerdict[] = ['not-found', 'unreachable', 'missing-platform', 'config-mismatch', 'binary-mismatch', 'page-size-risk', 'ok'];

export interface Finding {
  verdict: AuditVerdict;
  reason: string;
}

export function primary(findings: readonly Finding[]): Finding {
  const sorted = [...findings].sort((a, b) => PRECEDENCE.indexOf(a.verdict) - PRECEDENCE.indexOf(b.verdict));
  return sorted[0] ?? { verdict: 'ok', reason: 'the image has a matching entry for this platform' };
}

/** Does the config's platform say the same as the index entry (or the platform asked for)? */
export function configFinding(config: ImageConfig, expected: Platform): Finding | undefined {
  const actual = entryPlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) })!;
  if (actual.os === expected.os && actual.architecture === expected.architecture) {
    // A config without a variant is fine for any variant of its architecture (most builders omit it).
    if (!actual.variant || !expected.variant || actual.variant === expected.variant) return undefined;
  }
  return {
    verdict: 'config-mismatch',
    reason: `the index lists this entry as ${formatPlatform(expected)} but its config says ${formatPlatform(actual)}`,
  };
}

/** 64 KiB: the largest page size an arm64 Linux kernel uses; binaries aligned below it fail there. */
export const ARM64_MAX_PAGE = 65536;

export function binaryFindings(elf: ElfInfo, file: string, want: Platform, via?: string): Finding[] {
  const out: Finding[] = [];
  const how = via ? ` (${via})` : '';
  if (elf.arch !== want.architecture) {
    out.push({
      verdict: 'binary-mismatch',
      reason: `${file}${how} is built for ${elf.machine} (${elf.arch}); a ${formatPlatform(want)} node would fail with "exec format error" (or run it under emulation)`,
    });
  } else if (elf.arch === 'arm64' && elf.loadAlign.max < ARM64_MAX_PAGE) {
    out.push({
      verdict: 'page-size-risk',
      reason: `${file}${how} has segments aligned to ${elf.loadAlign.max} bytes: it cannot load on arm64 kernels with 64 KiB pages (relink with -z max-page-size=0x10000)`,
    });
  }
  return out;
}
