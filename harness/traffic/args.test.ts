import { describe, expect, test } from 'vitest';
import { parseDuration, parseStandaloneArgs } from './args.ts';

describe('standalone arguments', () => {
  test('durations: ms, s, m; a bare number is seconds', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('0.5s')).toBe(500);
    expect(parseDuration('3')).toBe(3000);
    expect(() => parseDuration('10 minutes')).toThrow(/not a duration/);
    expect(() => parseDuration('-1s')).toThrow(/not a duration/);
  });

  test('the documented command line', () => {
    const a = parseStandaloneArgs(['--url', 'http://svc:8080/x?y=1', '--rate', '1000', '--duration', '30s', '--connections', '16', '--warmup', '5s', '--json']);
    expect(a).toEqual({
      json: true,
      options: { url: 'http://svc:8080/x?y=1', rate: 1000, durationMs: 30_000, connections: 16, warmupMs: 5000, thresholds: {} },
    });
  });

  test('headers, thresholds, strategy', () => {
    const a = parseStandaloneArgs([
      '--url', 'http://a/', '--rate', '10', '--duration', '1s', '--header', 'X-Test: a:b', '--header', 'host:svc',
      '--max-lateness-p99-us', '500', '--min-achieved-ratio', '0.95', '--max-loop-delay-ms', '20', '--strategy', 'timeout', '--method', 'post', '--client', 'request',
    ]);
    expect('options' in a && a.options).toMatchObject({
      headers: { 'x-test': 'a:b', host: 'svc' },
      thresholds: { maxLatenessP99Us: 500, minAchievedRatio: 0.95, maxEventLoopDelayUs: 20_000 },
      scheduler: { strategy: 'timeout' },
      method: 'POST',
      client: 'request',
    });
  });

  test('usage errors name the flag', () => {
    expect(() => parseStandaloneArgs(['--rate', '1', '--duration', '1s'])).toThrow(/--url is required/);
    expect(() => parseStandaloneArgs(['--url', 'http://a/', '--rate', 'fast', '--duration', '1s'])).toThrow(/--rate must be a number/);
    expect(() => parseStandaloneArgs(['--url', 'http://a/', '--rate', '1', '--duration', '1s', '--header', 'nocolon'])).toThrow(/--header must be/);
    expect(() => parseStandaloneArgs(['--url', 'http://a/', '--rate', '1', '--duration', '1s', '--strategy', 'x'])).toThrow(/--strategy must be/);
    expect(() => parseStandaloneArgs(['--url', 'http://a/', '--rate', '1', '--duration', '1s', '--client', 'fetch'])).toThrow(/--client must be/);
    expect(() => parseStandaloneArgs(['--bogus'])).toThrow();
    expect(parseStandaloneArgs(['--help'])).toEqual({ help: true });
  });
});
