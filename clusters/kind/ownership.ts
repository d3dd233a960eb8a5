/**
 * Which kind clusters are meshcheck's. kind cannot put extra labels on its node containers, so meshcheck keeps a
 * record per cluster it created (run id, owner pid and host) in its state directory. The next start deletes the
 * clusters of dead runs (`reapOrphanClusters`); a cluster without a record is never touched.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LABEL_MANAGED, LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_RUN, ownerIsGone, pidAlive } from '../../harness/labels.ts';
import { runCommand } from '../../harness/process/run.ts';
import { writeFileAtomic } from '../../harness/util/atomic-write.ts';
import { deleteArgs } from './config.ts';

export interface KindContext {
  /** Path of the kind binary. */
  kind: string;
  /** Path of the docker CLI. */
  docker: string;
  /** Where cluster configs, kubeconfigs and ownership records live (e.g. ~/.cache/meshcheck/clusters). */
  stateDir: string;
  runId: string;
  log: (line: string) => void;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

export function clusterDir(ctx: Pick<KindContext, 'stateDir'>, name: string): string {
  return path.join(ctx.stateDir, name);
}

const OWNER_FILE = 'owner.json';

export async function writeOwnership(ctx: KindContext, name: string): Promise<void> {
  const record = { name, [LABEL_MANAGED]: 'true', [LABEL_RUN]: ctx.runId, [LABEL_OWNER_PID]: String(process.pid), [LABEL_OWNER_HOST]: os.hostname(), createdAt: new Date().toISOString() };
  await writeFileAtomic(path.join(clusterDir(ctx, name), OWNER_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

export async function removeOwnership(ctx: Pick<KindContext, 'stateDir'>, name: string): Promise<void> {
  await rm(path.join(clusterDir(ctx, name), OWNER_FILE), { force: true });
}

export async function readOwnership(ctx: Pick<KindContext, 'stateDir'>, name: string): Promise<Record<string, string> | undefined> {
  try {
    return JSON.parse(await readFile(path.join(clusterDir(ctx, name), OWNER_FILE), 'utf8')) as Record<string, string>;
  } catch {
    return undefined;
  }
}

/** Clusters kind knows about (`kind get clusters` prints one per line; none → a note on stderr, exit 0). */
export async function kindClusters(ctx: Pick<KindContext, 'kind' | 'env'>): Promise<string[]> {
  const r = await runCommand(ctx.kind, ['get', 'clusters'], { timeoutMs: 60_000, env: ctx.env });
  if (!r.ok) return [];
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Is this cluster meshcheck's (has a record)? */
export async function isOurCluster(ctx: Pick<KindContext, 'stateDir'>, name: string): Promise<boolean> {
  return (await readOwnership(ctx, name))?.[LABEL_MANAGED] === 'true';
}

/** Delete the clusters of runs that died (their owner pid is gone on this host). Returns their names. */
export async function reapOrphanClusters(ctx: KindContext, isAlive: (pid: number) => boolean = pidAlive): Promise<string[]> {
  const existing = new Set(await kindClusters(ctx));
  const names = await readdir(ctx.stateDir).catch(() => [] as string[]);
  const reaped: string[] = [];
  for (const name of names) {
    const owner = await readOwnership(ctx, name);
    if (!owner || !ownerIsGone(owner, isAlive)) continue;
    if (existing.has(name)) {
      ctx.log(`kind: deleting cluster ${name} left by run ${owner[LABEL_RUN]} (pid ${owner[LABEL_OWNER_PID]} is gone)`);
      const r = await runCommand(ctx.kind, deleteArgs(name), { timeoutMs: 300_000, env: ctx.env });
      if (!r.ok) continue;
    }
    await rm(clusterDir(ctx, name), { recursive: true, force: true });
    reaped.push(name);
  }
  return reaped;
}
