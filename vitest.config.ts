import { defineConfig } from 'vitest/config';

/**
 * Projects:
 *  - unit:        no external services (pure logic, files in the repo).
 *  - integration: needs the test bed (`npm run testbed -- up`): Docker engine, QEMU binfmt, the local registry.
 *  - host-state:  tests that change global host state (switching the qemu-aarch64 binfmt handler off). They run
 *                 after every other project has finished (groupOrder) and one file at a time, so no test that
 *                 needs emulation ever runs while the handler is off.
 *  - kube:        needs the test control plane (`npm run testbed -- up` starts it; scripts/control-plane.ts):
 *                 a real kube-apiserver, etcd, controller manager, scheduler, kwok nodes and the real istioctl.
 *  - final:       checks that the test run left nothing behind (containers, networks, volumes).
 * The conformance project (suites/conformance) is not here: `meshcheck run` starts it with vitest's API per cell.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{harness,clusters,suites,reports,scripts}/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/*.host.test.ts', '**/*.kube.test.ts', '**/*.final.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{harness,clusters,suites,reports,scripts}/**/*.int.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'kube',
          include: ['{harness,clusters,suites,reports,scripts}/**/*.kube.test.ts'],
          // One file at a time: installing and uninstalling a mesh changes cluster-wide state (CRDs, webhooks).
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'host-state',
          include: ['{harness,clusters,suites,reports,scripts}/**/*.host.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Runs after everything else: nothing meshcheck started may outlive the tests.
        test: {
          name: 'final',
          include: ['{harness,clusters,suites,reports,scripts}/**/*.final.test.ts'],
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
