/**
 * For `kube` tests: the test control plane's state (kubeconfig, istioctl, versions), or a decision about its
 * absence. With CI set a missing control plane fails the tests — never a silent skip; on a laptop without it the
 * tests are skipped and say how to bring it up.
 */
import { type ControlPlaneState, controlPlaneAnswers, controlPlaneDir, readControlPlaneState } from '../../scripts/control-plane/lifecycle.ts';

import { infrastructureMissing } from './testbed.ts';

export type { ControlPlaneState };

export async function requireControlPlane(env: Record<string, string | undefined> = process.env): Promise<ControlPlaneState | undefined> {
  const dir = controlPlaneDir(env);
  const state = await readControlPlaneState(dir);
  const reason = !state
    ? `the test control plane is not up (no ${dir}/control-plane.json): run \`npm run testbed -- up\` or \`node scripts/control-plane.ts up\``
    : !(await controlPlaneAnswers(state))
      ? `the test control plane recorded in ${dir} does not answer: run \`node scripts/control-plane.ts up\` again`
      : undefined;
  if (!reason) return state;
  infrastructureMissing('Kube', reason, env);
  return undefined;
}
