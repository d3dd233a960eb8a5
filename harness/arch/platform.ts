/**
 * The one definition of a platform used everywhere in meshcheck: `os/arch[/variant]`, normalised the way
 * containerd does it (containerd/platforms: normalize.go), so "aarch64", "arm64/v8" and "arm64" compare equal.
 */

/** Architectures meshcheck knows by name. Anything else is kept verbatim so nothing is silently dropped. */
export type Arch = 'amd64' | 'arm64' | 'arm' | '386' | 'riscv64' | 's390x' | 'ppc64le' | 'ppc64' | 'mips64le' | 'loong64';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  x86: '386',
  i386: '386',
  i686: '386',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  armv7l: 'arm',
  armv6l: 'arm',
  // Node's process.arch spellings
  x64: 'amd64',
  ia32: '386',
  ppc64el: 'ppc64le',
  loong64: 'loong64',
};

/** Normalise an architecture name from any source (uname, Node, Debian, OCI) to the OCI spelling. */
export function normalizeArch(name: string): string {
  const lower = name.trim().toLowerCase();
  return ARCH_ALIASES[lower] ?? lower;
}

/** Variant defaults as containerd applies them: arm64 is v8 unless said otherwise; arm is v7. */
function normalizeVariant(architecture: string, variant: string | undefined, rawArch: string): string | undefined {
  const v = variant?.trim().toLowerCase() || undefined;
  if (architecture === 'arm64') return v === 'v8' ? undefined : v; // arm64/v8 ≡ arm64
  if (architecture === 'arm') {
    if (v) return v;
    if (rawArch === 'armv6l' || rawArch === 'armel') return 'v6';
    return 'v7';
  }
  return v;
}

export class PlatformSyntaxError extends Error {
  override name = 'PlatformSyntaxError';
}

/** Parse `linux/arm64`, `linux/arm/v7`, `arm64` (os defaults to linux) or `aarch64`. */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().split('/');
  if (parts.length === 0 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new PlatformSyntaxError(
      `"${text}" is not a platform; write it as os/arch[/variant], for example linux/arm64 or linux/amd64`,
    );
  }
  const [first, second, third] = parts as [string, string?, string?];
  const rawOs = second === undefined ? 'linux' : first;
  const rawArch = second === undefined ? first : second;
  const architecture = normalizeArch(rawArch);
  const platform: Platform = { os: rawOs.toLowerCase(), architecture };
  const variant = normalizeVariant(architecture, third, rawArch.toLowerCase());
  if (variant) platform.variant = variant;
  return platform;
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** Normalise any platform-ish string to its canonical text form. */
export function normalizePlatform(text: string): string {
  return formatPlatform(parsePlatform(text));
}

export function samePlatform(a: Platform, b: Platform): boolean {
  return formatPlatform(a) === formatPlatform(b);
}
