/**
 * Integration-style, but unit-project: the targets are node:http servers in this process on 127.0.0.1.
 * They hold responses with timers (never block the loop), because the loop is the generator's too.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { runTraffic } from './generator.ts';
import { decode } from './histograms.ts';
import type { TrafficResult } from './result.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  s.keepAliveTimeout = 60_000;
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
}

/**
 * Answer after `ms`, never earlier. setTimeout alone is not that: libuv computes timers from a loop clock in whole
 * milliseconds, so in a loop that never sleeps (the generator's) a 1 ms timer fires 0-1 ms later.
 */
function after(ms: number, fn: () => void): void {
  const deadline = performance.now() + ms;
  const check = () => (performance.now() >= deadline ? fn() : setImmediate(check));
  setTimeout(check, ms);
}

const show = (r: TrafficResult) =>
  `corrected ${JSON.stringify(r.corrected)}\nuncorrected ${JSON.stringify(r.uncorrected)}\nlateness ${JSON.stringify(r.lateness)}\n${r.invalidReasons.join('\n')}`;

describe('runTraffic against local servers', () => {
  test('500 req/s for 2 s against a fixed 1 ms server: on rate, corrected p50 ≈ 1 ms', async () => {
    const url = await serve((_req, res) => after(1, () => res.end('ok')));
    const r = await runTraffic({ url, rate: 500, durationMs: 2000, warmupMs: 200 });
    expect(r.planned).toBe(1000);
    expect(r.sent).toBe(1000);
    expect(r.completed, show(r)).toBe(1000);
    expect(r.errors.total).toBe(0);
    expect(r.achievedRatio, show(r)).toBeGreaterThanOrEqual(0.99);
    // The server holds 1 ms; loopback, parsing and the shared event loop add tens to hundreds of µs.
    expect(r.corrected.p50, show(r)).toBeGreaterThanOrEqual(1000);
    expect(r.corrected.p50, show(r)).toBeLessThan(2000);
    expect(r.uncorrected.p50).toBeLessThanOrEqual(r.corrected.p50);
    expect(r.connections).toBe(10);
    expect(r.socketsOpened).toBe(10);
    expect(decode(r.histograms.corrected).totalCount).toBe(1000);
    expect(r.intervals.reduce((a, x) => a + x.completed, 0)).toBe(1000);
    expect(r.intervals.length).toBeGreaterThanOrEqual(2);
  });

  test('a 200 ms stall: corrected p99 shows it, uncorrected (from the socket write) hides it', async () => {
    let stallAt = Number.POSITIVE_INFINITY;
    let stallUntil = 0;
    const url = await serve((_req, res) => {
      const now = performance.now();
      if (now >= stallAt && stallUntil === 0) stallUntil = now + 200;
      const hold = now < stallUntil ? stallUntil - now + 1 : 1;
      after(hold, () => res.end('ok'));
    });
    // 8 connections: during the stall 8 requests are on the wire and the rest wait in the pool, as with fortio -c 8.
    const run = runTraffic({ url, rate: 500, durationMs: 2000, warmupMs: 200, connections: 8 });
    stallAt = performance.now() + 900;
    const r = await run;
    expect(stallUntil).toBeGreaterThan(0);
    expect(r.completed).toBe(1000);
    // Ground truth: ~100 requests fall in the stall, waiting 200 … 0 ms; the 1 %-worst wait ≥ 180 ms.
    expect(r.corrected.p99, show(r)).toBeGreaterThan(150_000);
    expect(r.corrected.max).toBeGreaterThan(190_000);
    expect(r.uncorrected.p99, show(r)).toBeLessThan(20_000);
    // The 8 requests that were on the wire did see it.
    expect(r.uncorrected.max).toBeGreaterThan(150_000);
    // The queue histogram tells where the time went: waiting for a connection.
    expect(r.queue.max).toBeGreaterThan(100_000);
  });

  test.each(['dispatch', 'request'] as const)('%s: errors are counted by kind and kept out of the latency histograms', async (client) => {
    let n = 0;
    const url = await serve((req, res) => {
      n++;
      if (n % 10 === 0) {
        res.statusCode = 503;
        res.end('busy');
      } else if (n % 25 === 0) {
        req.socket.destroy();
      } else {
        res.end('ok');
      }
    });
    const r = await runTraffic({ url, rate: 400, durationMs: 500, warmupMs: 0, connections: 4, client });
    expect(r.sent).toBe(200);
    expect(r.completed + r.errors.total).toBe(200);
    expect(r.errors.byKind['http-5xx']).toBeGreaterThan(0);
    expect(r.errors.byKind['connection-reset']).toBeGreaterThan(0);
    expect(decode(r.histograms.corrected).totalCount).toBe(r.completed);
    expect(decode(r.histograms.errors).totalCount).toBe(r.errors.total);
    // Reset connections were reopened.
    expect(r.socketsOpened).toBeGreaterThan(4);
    // Every success was stamped at each step.
    expect(r.firstByte.count).toBe(r.completed);
    expect(r.uncorrected.max).toBeLessThanOrEqual(r.corrected.max);
  });

  test('an unreachable target is an error before the run, not a result', async () => {
    const url = await serve(() => {});
    const s = servers.pop()!;
    await new Promise((r) => s.close(r));
    await expect(runTraffic({ url, rate: 10, durationMs: 100, warmupMs: 0, timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('bad options are refused with the name of the option', async () => {
    await expect(runTraffic({ url: 'http://127.0.0.1:1/', rate: 0, durationMs: 100 })).rejects.toThrow(/rate must be a number > 0/);
    await expect(runTraffic({ url: 'http://127.0.0.1:1/', rate: 1, durationMs: 100, connections: 1.5 })).rejects.toThrow(/connections must be a whole number/);
    await expect(runTraffic({ url: 'http://127.0.0.1:1/', rate: 1, durationMs: 100, timeoutMs: 120_000 })).rejects.toThrow(/at most 59,000/);
    await expect(runTraffic({ url: 'ftp://127.0.0.1:1/', rate: 1, durationMs: 100 })).rejects.toThrow(/http:\/\/ or https:\/\//);
  });

  test('standalone.ts prints the result JSON and exits 0 or 1 by validity', async () => {
    const url = await serve((_req, res) => res.end('ok'));
    const script = path.join(import.meta.dirname, 'standalone.ts');
    const child = spawn(process.execPath, [script, '--url', url, '--rate', '200', '--duration', '500ms', '--warmup', '100ms', '--json', '--max-lateness-p99-us', '60000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const result = JSON.parse(out) as TrafficResult;
    expect([0, 1], err).toContain(code);
    expect(code === 0).toBe(result.valid);
    expect(result).toMatchObject({ schema: 'meshcheck.traffic/v1', rate: 200, sent: 100, completed: 100 });
  });
});
