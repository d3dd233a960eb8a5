/**
 * The bench's target: node:http on 127.0.0.1 with a known latency, run as its own process so it never shares an
 * event loop with the generator being measured.
 *
 *   node scripts/bench/server.ts [--delay-ms 1] [--stall-every-ms 1000 --stall-ms 100] [--body-bytes 1024]
 *
 * Every response is held `delay-ms` (0: answered synchronously). With stalls, the server "stops answering" for
 * `stall-ms` at the start of every `stall-every-ms` period: a request that arrives inside a stall window is held
 * until the window ends and then served like any other (its delay starts then). The event loop itself is never
 * blocked, so how late the stall makes each request depends only on its arrival time, which is what lets the bench
 * compute the ground truth for the same schedule.
 *
 * On start it prints one JSON line: { port, stallEpochNs } — stallEpochNs is the CLOCK_MONOTONIC time
 * (process.hrtime.bigint) at which the first stall window begins, the same clock the generator's schedule reports.
 * GET /__stats answers with how late the server's own timers fired (actual − planned hold, µs) since the previous
 * /__stats, so the bench can show what the "fixed" delay really was. SIGTERM ends it.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'delay-ms': { type: 'string', default: '1' },
    'stall-every-ms': { type: 'string', default: '0' },
    'stall-ms': { type: 'string', default: '0' },
    'body-bytes': { type: 'string', default: '1024' },
    port: { type: 'string', default: '0' },
  },
});
const delayMs = Number(values['delay-ms']);
const everyNs = BigInt(Math.round(Number(values['stall-every-ms']) * 1e6));
const stallNs = BigInt(Math.round(Number(values['stall-ms']) * 1e6));
const body = Buffer.alloc(Number(values['body-bytes']), 'x');
const headers = { 'content-type': 'application/octet-stream', 'content-length': String(body.length) };

// Overshoot of the server's own timers, µs, in a plain array of bucket counts (no dependency for a test server).
const overshootUs: number[] = [];
let held = 0;

/** Hold before answering, ms: the rest of the stall window (if in one) plus the fixed delay. */
function holdMs(nowNs: bigint): number {
  if (everyNs > 0n && stallNs > 0n && nowNs >= stallEpochNs) {
    const phase = (nowNs - stallEpochNs) % everyNs;
    if (phase < stallNs) return Number(stallNs - phase) / 1e6 + delayMs;
  }
  return delayMs;
}

const server = http.createServer((req, res) => {
  if (req.url === '/__stats') {
    const sorted = [...overshootUs].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ held, overshootUs: { p50: q(50), p90: q(90), p99: q(99), p999: q(99.9), max: sorted.at(-1) ?? 0 } }));
    // Each answer covers the requests since the previous one.
    overshootUs.length = 0;
    held = 0;
    return;
  }
  // The request body (none in the bench) is not read; the response does not depend on it.
  const arrived = process.hrtime.bigint();
  const hold = holdMs(arrived);
  if (hold <= 0) {
    res.writeHead(200, headers);
    res.end(body);
    return;
  }
  setTimeout(() => {
    const late = Number(process.hrtime.bigint() - arrived) / 1e3 - hold * 1000;
    held++;
    if (overshootUs.length < 2_000_000) overshootUs.push(Math.round(late));
    res.writeHead(200, headers);
    res.end(body);
  }, hold);
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;

// The first stall starts 500 ms after start-up, so a client connecting right away does not begin inside one.
const stallEpochNs = process.hrtime.bigint() + 500_000_000n;
server.listen(Number(values.port), '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`${JSON.stringify({ port, stallEpochNs: stallEpochNs.toString() })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
