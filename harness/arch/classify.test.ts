import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { classifyFailure } from './classify.ts';
import { UPSTREAM_MESSAGES } from './fixtures/upstream-messages.ts';

interface Captured {
  id: string;
  expect: string;
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  output: string;
}

// Produced by `node scripts/capture-failures.ts` on the test bed; integration tests re-run the same scenarios live.
const captured = JSON.parse(readFileSync(new URL('./fixtures/captured-failures.json', import.meta.url), 'utf8')) as {
  capturedWith: Record<string, string>;
  failures: Captured[];
};

describe('classifier on output captured from real runs', () => {
  test('the fixture covers every verdict the test bed can produce', () => {
    const kinds = new Set(captured.failures.map((f) => f.expect));
    for (const k of ['ok', 'exec-format-error', 'illegal-instruction', 'segfault', 'bus-error', 'missing-platform', 'emulator-crash']) {
      expect(kinds, k).toContain(k);
    }
  });

  test.each(captured.failures.map((f) => [f.id, f] as const))('%s', (_id, f) => {
    const c = classifyFailure({ exitCode: f.exitCode, signal: f.signal, output: f.output, timedOut: f.timedOut });
    expect(c.kind).toBe(f.expect);
  });

  test('QEMU-reported deaths are marked as emulated and carry the signal', () => {
    const f = captured.failures.find((x) => x.id === 'docker-sigill-lse')!;
    const c = classifyFailure({ exitCode: f.exitCode, output: f.output });
    expect(c).toMatchObject({ kind: 'illegal-instruction', emulated: true, signal: 4 });
    expect(c.evidence).toMatch(/^qemu: uncaught target signal 4/);
  });

  test("busybox ash's ENOEXEC fallback: output alone says only 'other' with a note; the ELF arch settles it", () => {
    const f = captured.failures.find((x) => x.id === 'enoexec-busybox-sh-fallback')!;
    const alone = classifyFailure({ exitCode: f.exitCode, output: f.output });
    expect(alone.kind).toBe('other');
    expect(alone.notes.join(' ')).toMatch(/syntax error on line 1/);
    const withElf = classifyFailure({ exitCode: f.exitCode, output: f.output, binary: { arch: 'arm64' }, host: { runnableArchs: ['amd64'] } });
    expect(withElf.kind).toBe('exec-format-error');
  });

  test('an unknown QEMU CPU model is an emulator problem, not a verdict on the image', () => {
    const f = captured.failures.find((x) => x.id === 'qemu-unknown-cpu-model')!;
    const c = classifyFailure({ exitCode: f.exitCode, output: f.output });
    expect(c.kind).toBe('emulator-crash');
    expect(c.summary).toMatch(/neoverse-v1.*not the image/);
  });
});

describe('classifier on formats cited from upstream sources', () => {
  test.each(UPSTREAM_MESSAGES.map((m) => [m.id, m] as const))('%s', (_id, m) => {
    expect(m.source).toMatch(/\.(go|c|h):\d+/);
    expect(classifyFailure(m.evidence).kind).toBe(m.expect);
  });
});

describe('classifier rules without output', () => {
  test('signals by name and number, and 128+N exit statuses', () => {
    expect(classifyFailure({ signal: 'SIGILL' }).kind).toBe('illegal-instruction');
    expect(classifyFailure({ signal: 11 }).kind).toBe('segfault');
    expect(classifyFailure({ exitCode: 135 }).kind).toBe('bus-error');
    expect(classifyFailure({ exitCode: 137 }).kind).toBe('other'); // SIGKILL: not an architecture failure
  });

  test('a timeout is a timeout unless the output names the real cause', () => {
    expect(classifyFailure({ timedOut: true }).kind).toBe('timeout');
    expect(classifyFailure({ timedOut: true, output: 'qemu: uncaught target signal 4 (Illegal instruction) - core dumped' }).kind).toBe(
      'illegal-instruction',
    );
  });

  test('exit 0 is ok; other exit codes are other', () => {
    expect(classifyFailure({ exitCode: 0 }).kind).toBe('ok');
    expect(classifyFailure({ exitCode: 3, output: 'config file not found' })).toMatchObject({ kind: 'other', summary: 'it exited with code 3' });
  });

  test("Docker's platform warning is kept as a note, not a verdict", () => {
    const c = classifyFailure({
      exitCode: 0,
      output: "WARNING: The requested image's platform (linux/arm64) does not match the detected host platform (linux/amd64) and no specific platform was requested",
    });
    expect(c.kind).toBe('ok');
    expect(c.notes[0]).toMatch(/does not match the detected host platform/);
  });

  test('a segfault of a binary aligned below the page size is a page-size failure', () => {
    const e = { exitCode: 139, binary: { loadAlignMin: 4096 }, host: { pageSize: 16384 } };
    expect(classifyFailure(e).kind).toBe('page-size');
    expect(classifyFailure({ ...e, host: { pageSize: 4096 } }).kind).toBe('segfault');
  });
});
