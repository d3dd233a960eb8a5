import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireTestbed } from '../testing/testbed.ts';
import { fileSource, loadsOnPageSize, readElf } from './elf.ts';
import { resolveExecutable } from './executable.ts';

const bed = await requireTestbed();

async function elfOf(file: string) {
  await using src = await fileSource(file);
  return await readElf(src);
}

describe.runIf(bed)('ELF reader on real binaries', () => {
  const bin = (name: string) => bed!.binaries[name]!;

  test("Debian's busybox-static for amd64 and arm64", async () => {
    expect(await elfOf(bin('busybox-amd64'))).toMatchObject({ arch: 'amd64', machine: 'x86_64', bits: 64, endian: 'little' });
    const arm = await elfOf(bin('busybox-arm64'));
    expect(arm).toMatchObject({ arch: 'arm64', machine: 'aarch64', bits: 64 });
    expect(arm.linkage).not.toBe('dynamic');
    expect(arm.interpreter).toBeUndefined();
  });

  test('the official Node binaries are dynamic, with their loaders', async () => {
    expect(await elfOf(bin('node-amd64'))).toMatchObject({ arch: 'amd64', linkage: 'dynamic', interpreter: '/lib64/ld-linux-x86-64.so.2' });
    expect(await elfOf(bin('node-arm64'))).toMatchObject({ arch: 'arm64', linkage: 'dynamic', interpreter: '/lib/ld-linux-aarch64.so.1' });
  });

  test('cross-compiled arm64 at max-page-size 4 KiB and 64 KiB', async () => {
    const small = await elfOf(bin('hello-arm64-4k'));
    const large = await elfOf(bin('hello-arm64-64k'));
    expect(small.loadAlign.max).toBe(0x1000);
    expect(large.loadAlign.min).toBe(0x10000);
    expect(loadsOnPageSize(small, 65536)).toBe(false);
    expect(loadsOnPageSize(large, 65536)).toBe(true);
    expect(loadsOnPageSize(small, 4096)).toBe(true);
    expect(small.linkage).toBe('static');
  });

  test('a dynamic cross-compiled arm64 binary names the aarch64 loader', async () => {
    expect(await elfOf(bin('hello-arm64-dynamic'))).toMatchObject({ arch: 'arm64', linkage: 'dynamic', interpreter: '/lib/ld-linux-aarch64.so.1' });
  });
});

describe.runIf(bed)('following scripts to the binary that runs them', () => {
  let root: string;
  beforeAll(async () => {
    // An image-like root: /bin/sh is arm64 busybox, /usr/local/bin/node the arm64 Node binary.
    root = await mkdtemp(path.join(os.tmpdir(), 'meshcheck-root-'));
    await mkdir(path.join(root, 'bin'), { recursive: true });
    await mkdir(path.join(root, 'usr/local/bin'), { recursive: true });
    await mkdir(path.join(root, 'app'), { recursive: true });
    await symlink(bed!.binaries['busybox-arm64']!, path.join(root, 'bin/sh'));
    await symlink(bed!.binaries['node-arm64']!, path.join(root, 'usr/local/bin/node'));
    const script = async (name: string, text: string) => {
      await writeFile(path.join(root, 'app', name), text);
      await chmod(path.join(root, 'app', name), 0o755);
    };
    await script('entry.sh', '#!/bin/sh\nexec node /app/server.js\n');
    await script('server.js', '#!/usr/bin/env node\nconsole.log("hi")\n');
    await script('loop.sh', '#!/app/loop.sh\n');
    await script('text.txt', 'just text\n');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  test('#!/bin/sh lands on the image’s arm64 busybox', async () => {
    const r = await resolveExecutable(path.join(root, 'app/entry.sh'), { root });
    expect(r.problem).toBeUndefined();
    expect(r.chain.map((s) => s.info.kind)).toEqual(['script', 'elf']);
    expect(r.elf?.arch).toBe('arm64');
  });

  test('#!/usr/bin/env node is looked up on PATH inside the root', async () => {
    const r = await resolveExecutable(path.join(root, 'app/server.js'), { root });
    expect(r.elf).toMatchObject({ arch: 'arm64', interpreter: '/lib/ld-linux-aarch64.so.1' });
    expect(r.chain.at(-1)?.path).toBe(path.join(root, 'usr/local/bin/node'));
  });

  test('a script that names itself, and a text file, are reported, not followed forever', async () => {
    expect((await resolveExecutable(path.join(root, 'app/loop.sh'), { root })).problem).toMatch(/interpreter hops/);
    expect((await resolveExecutable(path.join(root, 'app/text.txt'), { root })).problem).toMatch(/neither ELF nor a #! script/);
  });
});
