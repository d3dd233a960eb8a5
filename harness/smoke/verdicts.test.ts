import { describe, expect, test } from 'vitest';
import { classifyFailure } from '../arch/classify.ts';
import { judgeRun, worst } from './verdicts.ts';

const judge = (run: { exitCode?: number; output?: string; startError?: string; timedOut?: boolean }, mismatch?: string) =>
  judgeRun(classifyFailure({ ...run }), run, mismatch);

describe('smoke verdicts', () => {
  test('a process that started and exited on its own is ok, whatever its exit code', () => {
    expect(judge({ exitCode: 0 })).toEqual({ verdict: 'ok', reason: 'it started and exited 0' });
    expect(judge({ exitCode: 2, output: 'unknown flag: --version' }).verdict).toBe('ok');
  });
  test('ran, but the binary is for another machine: binary-mismatch', () => {
    expect(judge({ exitCode: 0 }, '/bin/app is built for x86_64 (amd64)')).toEqual({ verdict: 'binary-mismatch', reason: 'it ran here, but /bin/app is built for x86_64 (amd64)' });
  });
  test('architecture failures keep their kind and the deciding line', () => {
    expect(judge({ exitCode: 1, output: 'exec /bin/sh: exec format error' })).toMatchObject({ verdict: 'exec-format-error', reason: expect.stringMatching(/exec \/bin\/sh: exec format error$/) });
    expect(judge({ exitCode: 132, output: 'qemu: uncaught target signal 4 (Illegal instruction) - core dumped' }).verdict).toBe('illegal-instruction');
    expect(judge({ timedOut: true }).verdict).toBe('timeout');
  });
  test('a command that is not in the image is not-found, not ok', () => {
    // What `docker run --init --entrypoint /bin/lse` of an image without it printed on the test bed (docker-init is
    // tini), exit 127.
    expect(judge({ exitCode: 127, output: '[FATAL tini (8)] exec /bin/lse failed: No such file or directory' })).toEqual({
      verdict: 'not-found',
      reason: 'the command is not in the image: [FATAL tini (8)] exec /bin/lse failed: No such file or directory',
    });
  });
  test('a start failure that is not about the architecture is unreachable', () => {
    expect(judge({ startError: 'Error response from daemon: cannot connect', output: '' }).verdict).toBe('unreachable');
    expect(judge({ startError: 'no matching manifest for linux/arm64 in the manifest list entries', output: 'no matching manifest for linux/arm64 in the manifest list entries' }).verdict).toBe('missing-platform');
  });
  test('worst() orders by precedence', () => {
    expect(worst(['ok', 'timeout', 'illegal-instruction'])).toBe('illegal-instruction');
    expect(worst([])).toBe('ok');
  });
});
