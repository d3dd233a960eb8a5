/**
 * Daemons of the test bed (dockerd, the registry, etcd, kube-apiserver, kwok …): started detached with an argument
 * array and a log file, their pids recorded in a state file, and stopped only by the `down` that owns them.
 */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { sleep } from 'zx';
import { pidAlive } from '../../harness/labels.ts';

/** Start a daemon detached from this process, output to a log file; return its pid. */
export async function startDaemon(file: string, args: string[], logFile: string, env?: Record<string, string | undefined>): Promise<number> {
  const log = await open(logFile, 'a');
  try {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', log.fd, log.fd], env: env ? { ...process.env, ...env } : process.env });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${file}`);
    child.unref();
    return pid;
  } finally {
    await log.close();
  }
}

export async function lastLines(file: string, n = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-n).join('\n');
}

/** SIGTERM, then SIGKILL after 20 s. */
export async function stopPid(pid: number, what: string, log: (l: string) => void): Promise<void> {
  if (!pidAlive(pid)) return;
  log(`down: stopping ${what} (pid ${pid})`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(200);
  if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
}
