/**
 * For integration tests: the test bed's state, or a decision about its absence. In CI (CI set) a missing test bed
 * is a failure — never a silent skip. On a laptop without it the tests are skipped and say why.
 */
import { readState, type TestbedState, testbedDir } from '../../scripts/testbed/state.ts';

export type { TestbedState };

export interface TestbedLookup {
  bed?: TestbedState;
  /** Why the tests that need it will not run. */
  skipReason?: string;
}

/**
 * The one rule for missing test infrastructure: with CI set it is a failure (thrown at import, so the file
 * fails); otherwise the tests are skipped and the reason printed.
 */
export function infrastructureMissing(kind: string, reason: string, env: Record<string, string | undefined>): string {
  if (env.CI) throw new Error(`CI is set and ${reason}. ${kind} tests must not be skipped in CI.`);
  console.warn(`skipping ${kind.toLowerCase()} tests: ${reason}`);
  return reason;
}

export async function lookupTestbed(env: Record<string, string | undefined> = process.env): Promise<TestbedLookup> {
  const bed = await readState(testbedDir(env));
  if (bed) return { bed };
  return { skipReason: infrastructureMissing('Integration', `the test bed is not up (no ${testbedDir(env)}/testbed.json): run \`npm run testbed -- up\` as root`, env) };
}

/** Use at the top of an integration test file: `const bed = await requireTestbed();` then `describe.runIf(bed)`. */
export async function requireTestbed(): Promise<TestbedState | undefined> {
  return (await lookupTestbed()).bed;
}
