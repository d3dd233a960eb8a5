import { describe, expect, it } from 'vitest';
import { deploymentAvailable, describePods, pollUntil, WaitTimeoutError } from './wait.ts';

describe('waits', () => {
  it('a Deployment is Available only for its current generation with every replica updated and available', () => {
    const d = (o: object) => ({ metadata: { generation: 2 }, spec: { replicas: 2, selector: {}, template: {} }, ...o });
    const ok = { observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2, conditions: [{ type: 'Available', status: 'True' }] };
    expect(deploymentAvailable(d({ status: ok }) as never)).toBe(true);
    expect(deploymentAvailable(d({ status: { ...ok, observedGeneration: 1 } }) as never)).toBe(false);
    expect(deploymentAvailable(d({ status: { ...ok, availableReplicas: 1 } }) as never)).toBe(false);
    expect(deploymentAvailable(d({ status: { ...ok, conditions: [{ type: 'Available', status: 'False' }] } }) as never)).toBe(false);
  });

  it('describes pods with each container state', () => {
    expect(
      describePods([
        {
          metadata: { name: 'p' },
          spec: { containers: [], nodeName: 'n1' },
          status: { phase: 'Running', containerStatuses: [{ name: 'a', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }, { name: 'b', image: 'i', imageID: '', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } } }] },
        },
      ]),
    ).toBe('  pod p on n1 Running — a running, ready; b waiting CrashLoopBackOff: back-off');
  });

  it('a timeout says the limit and what it saw', async () => {
    const err = await pollUntil('the thing', async () => undefined, async () => '  saw nothing', { timeoutMs: 50, intervalMs: 10 }).catch((e) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err.message).toBe('the thing did not happen within 0 s; last seen:\n  saw nothing');
  });
});
