/**
 * Reaping by meshcheck's own labels. testcontainers' Ryuk would do this while a run lives, but its image cannot
 * be pulled everywhere (air-gapped runners, this test bed), so meshcheck does not depend on it: at start it removes
 * what runs whose process is gone left behind (a kill -9, a crash), and at the end (or on Ctrl-C) what its own run
 * started.
 */
import type Dockerode from 'dockerode';
import { LABEL_MANAGED, LABEL_RUN, ownerIsGone, pidAlive } from '../../harness/labels.ts';

export interface Reaped {
  containers: string[];
  networks: string[];
  volumes: string[];
}

type Filter = (labels: Record<string, string> | undefined) => boolean;

async function reap(docker: Dockerode, labelFilter: string, keep: Filter): Promise<Reaped> {
  const out: Reaped = { containers: [], networks: [], volumes: [] };
  const filters = JSON.stringify({ label: [labelFilter] });
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers
      .filter((c) => keep(c.Labels))
      .map(async (c) => {
        await docker.getContainer(c.Id).remove({ force: true, v: true }).catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 404 && err.statusCode !== 409) throw err; // already gone / removal in progress
        });
        out.containers.push(c.Id.slice(0, 12));
      }),
  );
  for (const n of await docker.listNetworks({ filters })) {
    if (!keep(n.Labels)) continue;
    await docker.getNetwork(n.Id).remove().catch(() => undefined);
    out.networks.push(n.Name);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const v of Volumes ?? []) {
    if (!keep(v.Labels)) continue;
    await docker.getVolume(v.Name).remove().catch(() => undefined);
    out.volumes.push(v.Name);
  }
  return out;
}

/** Remove what earlier runs on this host left behind after their process died. */
export function reapOrphans(docker: Dockerode, isAlive: (pid: number) => boolean = pidAlive): Promise<Reaped> {
  return reap(docker, `${LABEL_MANAGED}=true`, (labels) => ownerIsGone(labels, isAlive));
}

/** Remove everything one run started. */
export function reapRun(docker: Dockerode, runId: string): Promise<Reaped> {
  return reap(docker, `${LABEL_RUN}=${runId}`, () => true);
}

export function reapedCount(r: Reaped): number {
  return r.containers.length + r.networks.length + r.volumes.length;
}
