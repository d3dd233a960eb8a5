/**
 * Where the test bed lives and what it holds. `npm run testbed -- up` writes testbed.json here; integration
 * tests read it to find the registry, the images and the test binaries. The directory is outside the repo.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../harness/util/atomic-write.ts';

export const TESTBED_SCHEMA = 1;

export function testbedDir(env: Record<string, string | undefined> = process.env): string {
  return env.MESHCHECK_TESTBED_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'meshcheck', 'testbed');
}

export interface TestbedImage {
  /** Reference in the local registry, e.g. 127.0.0.1:5000/meshcheck-test/probe:1 */
  ref: string;
  /** Per-platform tags pushed before the index was assembled. */
  platforms: Record<string, string>;
  /** What the image is for. */
  purpose: string;
}

export interface TestbedState {
  schema: number;
  dir: string;
  createdAt: string;
  registry: { addr: string; pid?: number; startedByTestbed: boolean };
  dockerd: { pid?: number; startedByTestbed: boolean };
  binfmt: { handler: string; registeredByTestbed: boolean; mountedByTestbed: boolean };
  /** Absolute paths of test binaries, by name (busybox-arm64, lse-arm64, hello-arm64-64k, node-arm64, …). */
  binaries: Record<string, string>;
  images: Record<string, TestbedImage>;
}

export function statePath(dir: string): string {
  return path.join(dir, 'testbed.json');
}

export async function readState(dir = testbedDir()): Promise<TestbedState | undefined> {
  try {
    const state = JSON.parse(await readFile(statePath(dir), 'utf8')) as TestbedState;
    return state.schema === TESTBED_SCHEMA ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function writeState(state: TestbedState): Promise<void> {
  await writeFileAtomic(statePath(state.dir), `${JSON.stringify(state, null, 2)}\n`);
}
