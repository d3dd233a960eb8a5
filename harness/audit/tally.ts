/**
 * The summary and exit-code rule shared by every command that judges image × platform pairs (audit, smoke):
 * 0 all ok, 1 a failing verdict / a bad input / a source problem, 2 no usable input, 3 nothing could be checked.
 */
export interface Tally {
  summary: { images: number; checks: number; byVerdict: Record<string, number>; failing: number; uncheckable: number };
  exitCode: number;
}

const UNCHECKABLE = new Set(['not-found', 'unreachable']);

export function tally(
  images: ReadonlyArray<{ error?: string; platforms: ReadonlyArray<{ verdict: string }> }>,
  allow: ReadonlySet<string> = new Set(),
  problems = 0,
): Tally {
  const byVerdict: Record<string, number> = {};
  let failing = 0;
  let uncheckable = 0;
  let checks = 0;
  for (const img of images) {
    for (const p of img.platforms) {
      checks++;
      byVerdict[p.verdict] = (byVerdict[p.verdict] ?? 0) + 1;
      if (p.verdict !== 'ok' && !allow.has(p.verdict)) failing++;
      if (UNCHECKABLE.has(p.verdict)) uncheckable++;
    }
  }
  const invalid = images.filter((i) => i.error).length;
  let exitCode: number;
  if (images.length === 0 || invalid === images.length) exitCode = 2;
  else if (checks > 0 && uncheckable === checks) exitCode = 3;
  else exitCode = failing > 0 || invalid > 0 || problems > 0 ? 1 : 0;
  return { summary: { images: images.length, checks, byVerdict, failing: failing + invalid, uncheckable }, exitCode };
}
