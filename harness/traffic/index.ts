/**
 * The traffic engine: an open-model, constant-rate HTTP load generator with coordinated omission corrected, and
 * its histograms. Depends only on undici and hdr-histogram-js, so the same files run in-process and, as
 * `standalone.ts`, inside a pod.
 */
export { type TrafficOptions, TRAFFIC_DEFAULTS, runTraffic } from './generator.ts';
export { type ResultMeta, type TrafficResult, RESULT_SCHEMA, achievedRateOf, buildResult, histogramOf, mergeResults } from './result.ts';
export { type LatencyStats, EMPTY_STATS, HIGHEST_US, LOWEST_US, SIGNIFICANT_DIGITS, createHistogram, decode, encode, mergeEncoded, msToRecordableUs, summarize } from './histograms.ts';
export { type EncodedInterval, Recorder, RequestTiming } from './recorder.ts';
export { type PoolSizing, POOL_DEFAULTS, dueCount, intendedAt, poolSize, requestsIn } from './schedule.ts';
export { type SchedulerStrategy, SCHEDULER_DEFAULTS, runSchedule } from './scheduler.ts';
export { DEFAULT_THRESHOLDS, type Thresholds, type ValidityInput, judge } from './validity.ts';
export { type ErrorKind, errorKind, statusKind } from './error-kinds.ts';
export { type ClientMode, type Transport, openTransport, sender, warmConnections } from './transport.ts';
export { USAGE, parseDuration, parseStandaloneArgs } from './args.ts';
