#!/usr/bin/env node
/**
 * The test control plane: a real kube-apiserver with etcd, controller manager and scheduler, kwok's simulated
 * amd64 and arm64 nodes, and the real istioctl — built from the Go module proxy where nothing can be downloaded.
 * Test infrastructure only: nothing it builds is committed. `npm run testbed -- up` runs `up` as its last step.
 */
import { parseArgs } from 'node:util';
import { pidAlive } from '../harness/labels.ts';
import { binaryPath, provenance, type Strategy } from './control-plane/obtain.ts';
import {
  controlPlaneAnswers,
  controlPlaneCacheDir,
  type ControlPlaneContext,
  controlPlaneDir,
  controlPlaneDown,
  controlPlaneUp,
  obtainAll,
  readControlPlaneState,
  statePath,
} from './control-plane/lifecycle.ts';
import { TOOLS, VERSIONS } from './control-plane/versions.ts';

const HELP = `Usage: node scripts/control-plane.ts <fetch|up|down|status|env> [options]

  fetch   obtain kube-apiserver, kube-controller-manager, kube-scheduler ${VERSIONS.kubernetes}, etcd ${VERSIONS.etcd},
          kwok ${VERSIONS.kwok} and istioctl ${VERSIONS.istio} into the cache (download, else go build from modules)
  up      fetch, then start the control plane on loopback with kwok nodes (amd64, arm64); idempotent
  down    stop what up started and delete the run directory (the binary cache stays)
  status  say whether it is up (exit 0 when it is, 1 otherwise)
  env     print KUBECONFIG=… for a shell (the test kubeconfig; never your own)

Options:
  --strategy auto|download|build   how to obtain the programs (default auto: download, else build)
  --json                            machine-readable output (status, fetch)
  -h, --help                        this text

Environment:
  MESHCHECK_CONTROL_PLANE_DIR     run directory (default ~/.cache/meshcheck/control-plane/run)
  MESHCHECK_CONTROL_PLANE_CACHE   binary cache (default ~/.cache/meshcheck/control-plane)
`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      strategy: { type: 'string', default: 'auto' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  if (!['auto', 'download', 'build'].includes(values.strategy)) {
    console.error(`--strategy must be auto, download or build (got "${values.strategy}")`);
    return 2;
  }
  const ctx: ControlPlaneContext = {
    dir: controlPlaneDir(),
    cacheDir: controlPlaneCacheDir(),
    strategy: values.strategy as Strategy,
    log: (line) => console.log(`[control-plane] ${line}`),
    env: process.env,
  };
  switch (command) {
    case 'fetch': {
      const started = Date.now();
      const got = await obtainAll(ctx);
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      if (values.json) console.log(JSON.stringify({ seconds, programs: got }, null, 2));
      else for (const [tool, o] of Object.entries(got)) console.log(`${tool} ${o.version}: ${o.how}${o.how === 'cached' ? '' : ` in ${o.seconds} s`} → ${o.path}`);
      ctx.log(`fetch took ${seconds} s`);
      return 0;
    }
    case 'up':
      await controlPlaneUp(ctx);
      return 0;
    case 'down':
      await controlPlaneDown(ctx);
      return 0;
    case 'status': {
      const state = await readControlPlaneState(ctx.dir);
      const up = state ? await controlPlaneAnswers(state) : false;
      const cache = await Promise.all(
        TOOLS.map(async (t) => {
          const p = binaryPath({ cacheDir: ctx.cacheDir, versions: { ...VERSIONS }, arch: process.arch === 'arm64' ? 'arm64' : 'amd64' }, t);
          return { tool: t, path: p, provenance: (await provenance(p)) ?? null };
        }),
      );
      const report = {
        up,
        state: state ? statePath(ctx.dir) : null,
        server: state?.server ?? null,
        kubeconfig: state?.kubeconfig ?? null,
        pids: state ? Object.fromEntries(Object.entries(state.pids).map(([k, pid]) => [k, { pid, alive: pidAlive(pid as number) }])) : {},
        versions: VERSIONS,
        cache,
      };
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else {
        console.log(`control plane: ${up ? 'up' : 'not up'}${state ? ` (${state.server})` : ''}`);
        for (const [k, v] of Object.entries(report.pids)) console.log(`  ${k.padEnd(24)} pid ${v.pid} ${v.alive ? 'running' : 'GONE'}`);
        for (const c of cache) console.log(`  ${c.tool.padEnd(24)} ${c.provenance ? `${c.provenance.how} (${c.provenance.seconds} s)` : 'not in cache'}`);
        if (!up) console.log('run `node scripts/control-plane.ts up` (or `npm run testbed -- up`)');
      }
      return up ? 0 : 1;
    }
    case 'env': {
      const state = await readControlPlaneState(ctx.dir);
      if (!state) {
        console.error('the control plane is not up: run `node scripts/control-plane.ts up`');
        return 1;
      }
      console.log(`KUBECONFIG=${state.kubeconfig}`);
      return 0;
    }
    default:
      console.error(`unknown command "${command}": use fetch, up, down, status or env (see --help)`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(`[control-plane] failed: ${err.message}`);
    process.exitCode = 3;
  },
);
