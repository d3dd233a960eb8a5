/** crash: the crash guard's verdict over the whole run, as a check result. */
import type { OracleResult } from '../oracles/evidence.ts';
import type { CheckDefinition } from './types.ts';

export const crashChecks: CheckDefinition[] = [
  {
    id: 'crash.verdict',
    suite: 'crash',
    title: 'no container failed with an architecture failure or a crash loop during the run',
    features: [],
    apis: ['istio', 'gateway-api'],
    manifests: () => [],
    run: async (env): Promise<OracleResult> => {
      const failures = env.guard?.failures() ?? [];
      const fatal = failures.filter((f) => f.fatal);
      return fatal.length
        ? { verdict: 'fail', reason: fatal.map((f) => `${f.namespace}/${f.pod} ${f.container} (${f.image}, ${f.nodeArch ?? '?'}): ${f.classification.kind}`).join('; '), evidence: [], stats: { failures: failures.length, fatal: fatal.length } }
        : { verdict: 'pass', reason: `no architecture failure (${failures.length} non-fatal container failure(s))`, evidence: [], stats: { failures: failures.length } };
    },
  },
];
