/**
 * Every resource meshcheck starts (containers, networks, volumes, later kind clusters) carries these labels, so a
 * crashed or killed run's leftovers can be found and removed by the next start, and one run never touches another
 * live run's resources.
 */
import os from 'node:os';

export const LABEL_MANAGED = 'meshcheck.managed';
export const LABEL_RUN = 'meshcheck.run';
export const LABEL_OWNER_PID = 'meshcheck.owner-pid';
export const LABEL_OWNER_HOST = 'meshcheck.owner-host';

export function runLabels(runId: string, pid = process.pid): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_RUN]: runId, [LABEL_OWNER_PID]: String(pid), [LABEL_OWNER_HOST]: os.hostname() };
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${stamp}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Is the process that owns these labels gone (so its resources are orphans)? */
export function ownerIsGone(labels: Record<string, string> | undefined, isAlive: (pid: number) => boolean, host = os.hostname()): boolean {
  if (!labels || labels[LABEL_MANAGED] !== 'true') return false;
  if (labels[LABEL_OWNER_HOST] !== host) return false; // another machine's run: not ours to judge
  const pid = Number(labels[LABEL_OWNER_PID]);
  return !Number.isInteger(pid) || !isAlive(pid);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
