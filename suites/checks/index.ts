/** Every check, in the order they run. */
import type { SuiteName } from '../../harness/config/schema.ts';
import { crashChecks } from './crash.ts';
import { ingressChecks } from './ingress.ts';
import { mtlsChecks } from './mtls.ts';
import { retryChecks } from './retry.ts';
import { trafficChecks } from './traffic.ts';
import type { CheckDefinition, MeshApi } from './types.ts';

export const ALL_CHECKS: readonly CheckDefinition[] = [...trafficChecks, ...mtlsChecks, ...retryChecks, ...ingressChecks, ...crashChecks];

/** The (check, api) pairs a run of these suites and APIs makes. The latency suite is run by the runner itself. */
export function selectChecks(suites: readonly SuiteName[], apis: readonly MeshApi[]): { check: CheckDefinition; api: MeshApi }[] {
  return ALL_CHECKS.filter((c) => suites.includes(c.suite)).flatMap((check) => check.apis.filter((a) => apis.includes(a)).map((api) => ({ check, api })));
}
