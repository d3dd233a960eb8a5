/**
 * The standalone script's command line, parsed into TrafficOptions. Pure (no process access), so it is tested.
 */
import { parseArgs } from 'node:util';
import type { TrafficOptions } from './generator.ts';
import type { SchedulerStrategy } from './scheduler.ts';

export const USAGE = `usage: node standalone.ts --url URL --rate N --duration D [options]

  --url URL              target, http:// or https://, path and query included
  --rate N               requests per second (constant, open model)
  --duration D           measured window: 10s, 1500ms, 2m (a bare number is seconds)
  --warmup D             at the same rate before the window, not recorded (default 10s)
  --connections N        pool size (default: rate × 10 ms × 2 by Little's law, 8 … 256)
  --timeout D            per request (default 10s, at most 59s)
  --method M             default GET
  --header 'K: V'        repeatable
  --interval D           interval histograms (default 1s)
  --max-lateness-p99-us N   validity: generator lateness p99 limit (default 100)
  --min-achieved-ratio X    validity: achieved ÷ target rate (default 0.99)
  --max-loop-delay-ms X     validity: longest event-loop stall (default 10)
  --strategy S           hybrid (default), timeout or spin
  --client C             dispatch (default) or request (request() + body.dump())
  --json                 print the result JSON (otherwise a summary)

exit: 0 valid run, 1 invalid run (the result says why), 2 usage error, 3 the target could not be reached`;

/** "10s", "1500ms", "2m", "0.5s"; a bare number is seconds. Returns ms. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) throw new RangeError(`not a duration: ${JSON.stringify(text)} (use e.g. 10s, 1500ms, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000;
}

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new RangeError(`--${name} must be a number, got ${JSON.stringify(text)}`);
  return n;
}

export interface StandaloneArgs {
  options: TrafficOptions;
  json: boolean;
}

export function parseStandaloneArgs(argv: readonly string[]): StandaloneArgs | { help: true } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      timeout: { type: 'string' },
      method: { type: 'string' },
      header: { type: 'string', multiple: true },
      interval: { type: 'string' },
      'max-lateness-p99-us': { type: 'string' },
      'min-achieved-ratio': { type: 'string' },
      'max-loop-delay-ms': { type: 'string' },
      strategy: { type: 'string' },
      client: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };
  if (!values.url) throw new RangeError('--url is required');
  if (!values.rate) throw new RangeError('--rate is required');
  if (!values.duration) throw new RangeError('--duration is required');
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new RangeError(`--header must be 'Name: value', got ${JSON.stringify(h)}`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const strategy = values.strategy;
  if (strategy !== undefined && !['hybrid', 'timeout', 'spin'].includes(strategy)) {
    throw new RangeError(`--strategy must be hybrid, timeout or spin, got ${JSON.stringify(strategy)}`);
  }
  const client = values.client;
  if (client !== undefined && client !== 'dispatch' && client !== 'request') {
    throw new RangeError(`--client must be dispatch or request, got ${JSON.stringify(client)}`);
  }
  const thresholds: NonNullable<TrafficOptions['thresholds']> = {};
  const lateness = number('max-lateness-p99-us', values['max-lateness-p99-us']);
  if (lateness !== undefined) thresholds.maxLatenessP99Us = lateness;
  const ratio = number('min-achieved-ratio', values['min-achieved-ratio']);
  if (ratio !== undefined) thresholds.minAchievedRatio = ratio;
  const loop = number('max-loop-delay-ms', values['max-loop-delay-ms']);
  if (loop !== undefined) thresholds.maxEventLoopDelayUs = loop * 1000;

  const options: TrafficOptions = {
    url: values.url,
    rate: number('rate', values.rate)!,
    durationMs: parseDuration(values.duration),
    thresholds,
  };
  if (values.warmup !== undefined) options.warmupMs = parseDuration(values.warmup);
  const connections = number('connections', values.connections);
  if (connections !== undefined) options.connections = connections;
  if (values.timeout !== undefined) options.timeoutMs = parseDuration(values.timeout);
  if (values.method !== undefined) options.method = values.method.toUpperCase();
  if (Object.keys(headers).length > 0) options.headers = headers;
  if (values.interval !== undefined) options.intervalMs = parseDuration(values.interval);
  if (strategy !== undefined) options.scheduler = { strategy: strategy as SchedulerStrategy };
  if (client !== undefined) options.client = client;
  return { options, json: values.json };
}
