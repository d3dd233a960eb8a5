#!/usr/bin/env node
/**
 * The test bed: the real Docker engine, QEMU user emulation through binfmt_misc, an OCI registry on loopback and
 * the test images and binaries the integration tests use, and the test control plane (scripts/control-plane.ts:
 * kube-apiserver, etcd, controller manager, scheduler, kwok, istioctl). `npm run testbed -- up|down|status [--json]`.
 * Needs a Debian/Ubuntu host and root for `up` and `down` (it installs packages and registers binfmt handlers).
 */
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readBinfmt } from '../harness/arch/binfmt.ts';
import { pidAlive } from '../harness/labels.ts';
import { runCommand } from '../harness/process/run.ts';
import { buildProbes } from './build-probes.ts';
import { controlPlaneAnswers, controlPlaneCacheDir, controlPlaneDir, controlPlaneDown, controlPlaneUp, readControlPlaneState } from './control-plane/lifecycle.ts';
import { ECHO_IMAGE_NAME, ensureEchoImage } from './testbed/echo-image.ts';
import { readState, statePath, TESTBED_SCHEMA, testbedDir, type TestbedState, writeState } from './testbed/state.ts';
import { ensureBinaries, ensureBinfmt, ensureDockerd, ensureImages, ensurePackages, ensureRegistry, registryAnswers, type StepContext, tearDown } from './testbed/steps.ts';

const HELP = `Usage: npm run testbed -- <up|down|status> [--json]

  up      install what is missing (Debian packages), start dockerd if no engine answers, register qemu-aarch64
          with binfmt_misc, start an OCI registry on ${'127.0.0.1:5000'}, build and push the test images, and
          start the test control plane (obtaining its programs first: download, else go build from modules).
          Idempotent: a second up only checks.
  down    stop the control plane, remove the test images, stop the registry and dockerd if up started them,
          unregister what up registered, delete the test bed directory (the control plane's binary cache stays).
  status  say what is up (exit 0 when everything is, 1 otherwise).

Options:
  --json        machine-readable output (status)
  -h, --help    this text

Environment:
  MESHCHECK_TESTBED_DIR        where the test bed keeps its state (default ~/.cache/meshcheck/testbed)
  MESHCHECK_TESTBED_REGISTRY   registry address (default 127.0.0.1:5000)
`;

async function status(dir: string, json: boolean): Promise<number> {
  const state = await readState(dir);
  const docker = await runCommand('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
  const binfmt = await readBinfmt();
  const handler = binfmt.handlers.find((h) => h.name === 'qemu-aarch64');
  const registry = state ? await registryAnswers(state.registry.addr) : false;
  const report = {
    up: Boolean(state && docker.ok && handler?.enabled && registry),
    state: state ? statePath(dir) : null,
    docker: docker.ok ? docker.stdout.trim() : null,
    binfmt: handler ? { enabled: handler.enabled, flags: handler.rawFlags } : null,
    registry: state ? { addr: state.registry.addr, answers: registry, pid: state.registry.pid ?? null, pidAlive: state.registry.pid ? pidAlive(state.registry.pid) : null } : null,
    images: state ? Object.values(state.images).map((i) => i.ref) : [],
    controlPlane: await (async () => {
      const cp = await readControlPlaneState(controlPlaneDir());
      return cp ? { server: cp.server, kubeconfig: cp.kubeconfig, answers: await controlPlaneAnswers(cp) } : null;
    })(),
  };
  report.up = report.up && Boolean(report.controlPlane?.answers);
  if (json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`test bed: ${report.up ? 'up' : 'not up'}${state ? ` (${statePath(dir)})` : ''}`);
    console.log(`  docker engine: ${report.docker ?? 'not answering'}`);
    console.log(`  qemu-aarch64:  ${report.binfmt ? `${report.binfmt.enabled ? 'enabled' : 'DISABLED'}, flags ${report.binfmt.flags}` : 'not registered'}`);
    console.log(`  registry:      ${report.registry ? `${report.registry.addr} ${registry ? 'answers' : 'not answering'}` : 'not started'}`);
    for (const ref of report.images) console.log(`  image:         ${ref}`);
    console.log(`  control plane: ${report.controlPlane ? `${report.controlPlane.server} ${report.controlPlane.answers ? 'answers' : 'not answering'}` : 'not started'}`);
    if (!report.up) console.log('run `npm run testbed -- up` (as root) to bring it up');
  }
  return report.up ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const dir = testbedDir();
  const ctx: StepContext = {
    dir,
    env: process.env,
    log: (line) => console.log(`[testbed] ${line}`),
    registryAddr: process.env.MESHCHECK_TESTBED_REGISTRY ?? '127.0.0.1:5000',
  };
  switch (command) {
    case 'up': {
      const started = Date.now();
      await mkdir(dir, { recursive: true });
      const prior = await readState(dir);
      await ensurePackages(ctx);
      const dockerd = await ensureDockerd(ctx, prior);
      const binfmt = await ensureBinfmt(ctx, prior);
      const registry = await ensureRegistry(ctx, prior);
      const binaries = await ensureBinaries(ctx);
      await buildProbes({ log: (line) => ctx.log(`probes: ${line}`), strict: true });
      const images = await ensureImages(ctx, binaries);
      images[ECHO_IMAGE_NAME] = await ensureEchoImage(ctx, binaries);
      const state: TestbedState = {
        schema: TESTBED_SCHEMA,
        dir,
        createdAt: prior?.createdAt ?? new Date().toISOString(),
        registry,
        dockerd,
        binfmt,
        binaries,
        images,
      };
      await writeState(state);
      await controlPlaneUp({ dir: controlPlaneDir(), cacheDir: controlPlaneCacheDir(), strategy: 'auto', env: process.env, log: (line) => ctx.log(`control plane: ${line}`) });
      ctx.log(`up in ${((Date.now() - started) / 1000).toFixed(1)} s; state in ${statePath(dir)}`);
      return 0;
    }
    case 'down':
      await controlPlaneDown({ dir: controlPlaneDir(), log: ctx.log });
      await tearDown(ctx, await readState(dir));
      return 0;
    case 'status':
      return status(dir, values.json);
    default:
      console.error(`unknown command "${command}": use up, down or status (see --help)`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(`[testbed] failed: ${err.message}`);
    process.exitCode = 3;
  },
);
