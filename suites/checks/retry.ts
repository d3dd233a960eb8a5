/** retry: N failures then success within the attempts, the error beyond the limit, retryOn conditions. */
import { judgeRetry } from '../oracles/retry.ts';
import type { CheckDefinition, CheckEnv } from './types.ts';
import { echoRoute } from './traffic.ts';
import { clientWorkload, echoWorkload } from './workloads.ts';

const ATTEMPTS = 3;

async function attempt(env: CheckEnv, succeedAfter: number, status: number, retried: boolean) {
  const uuid = `mc-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const base = `http://echo-v1.${env.setup.namespace}.svc.cluster.local`;
  // Through Service echo (the routed host); the count is read from the one v1 replica directly.
  const [ex] = await env.fromClient(env.setup.namespace, [{ url: `http://echo.${env.setup.namespace}.svc.cluster.local/retry/x?uuid=${uuid}&succeedAfter=${succeedAfter}&responseCode=${status}` }]);
  const [count] = await env.fromClient(env.setup.namespace, [{ url: `${base}/attempts?uuid=${uuid}` }]);
  return judgeRetry({ exchange: ex!, attempts: count?.response?.body as { attempts: number; failed: number }, ...(count ? { countExchange: count } : {}) }, { succeedAfter, retryAttempts: ATTEMPTS, retried });
}

const manifests: CheckDefinition['manifests'] = (s) => [...echoWorkload(s), ...clientWorkload(s, s.namespace), ...echoRoute(s, 'echo-retry', [{ to: { v1: 100 } }], { retries: { attempts: ATTEMPTS, retryOn: '5xx' } })];

// Gateway API's retry field (HTTPRoute.spec.rules[].retry) is experimental in v1.3.0 and absent from the standard
// CRDs meshcheck installs, so retries are checked with Istio's API only.
export const retryChecks: CheckDefinition[] = [
  { id: 'retry.within-limit', suite: 'retry', title: `2 failures then success within ${ATTEMPTS} retries`, features: ['sidecar', 'retry-policy'], apis: ['istio'], manifests, run: (env) => attempt(env, 2, 503, true) },
  { id: 'retry.beyond-limit', suite: 'retry', title: `${ATTEMPTS + 2} failures: the 503 surfaces after ${ATTEMPTS + 1} attempts`, features: ['sidecar', 'retry-policy'], apis: ['istio'], manifests, run: (env) => attempt(env, ATTEMPTS + 2, 503, true) },
  { id: 'retry.retry-on', suite: 'retry', title: 'a 4xx is not retried under retryOn 5xx', features: ['sidecar', 'retry-policy'], apis: ['istio'], manifests, run: (env) => attempt(env, 1, 409, false) },
];
