/**
 * Turns the timestamps of each request into histograms. Pure: it is given numbers (performance.now() ms) and does
 * no I/O, so the statistics are tested without a network.
 *
 * Per request (anchors-latency.md §7 "Timestamps per request"):
 *   corrected   = done − intended   the headline, wrk2's semantics (§2.1): includes every wait the schedule saw
 *   uncorrected = done − written    fortio's and wrk's semantics (§1.2): from the moment the request went on the
 *                                   wire, so a request queued behind a stalled connection does not count the stall
 *   lateness    = sent − intended   the generator's own health: how late it handed the request to undici
 *   queue       = written − sent    time in undici's pool waiting for a free connection
 *   firstByte   = firstByte − intended   (corrected time to the response headers)
 * `sent` is when the scheduler called `request()`; `written` is when undici wrote the request line onto a socket
 * (`onRequestStart`, just before the headers are written). With free connections the two are microseconds apart.
 * Keeping both is what lets lateness measure the generator while uncorrected stays comparable with fortio: with a
 * single "sent", one of the two would be wrong during a target stall.
 *
 * Histograms are never double-corrected: no `recordValueWithExpectedInterval` (§2.2, Histogram.ts doc).
 */
import type { Histogram } from 'hdr-histogram-js';
import { createHistogram, encode, msToRecordableUs } from './histograms.ts';

/** Timestamps of one request, performance.now() milliseconds. 0 means "did not happen". */
export class RequestTiming {
  index: number;
  intended: number;
  sent = 0;
  written = 0;
  firstByte = 0;
  done = 0;
  status = 0;
  /** An error undici reported after the headers (the body failed), seen by the stamping handler. */
  bodyError: unknown = undefined;
  constructor(index: number, intended: number) {
    this.index = index;
    this.intended = intended;
  }
}

/** One interval of the run, with its histograms encoded (compressed base64, µs). */
export interface EncodedInterval {
  /** Start of the interval, ms after the first intended start of the window. */
  startMs: number;
  durationMs: number;
  /** Successful requests that completed in this interval. */
  completed: number;
  /** Failed requests that ended in this interval. */
  errors: number;
  corrected: string;
  uncorrected: string;
  lateness: string;
}

interface LiveInterval {
  index: number;
  completed: number;
  errors: number;
  corrected: Histogram;
  uncorrected: Histogram;
  lateness: Histogram;
}

export class Recorder {
  /** The first intended start of the measured window (performance.now() ms). */
  readonly t0: number;
  readonly intervalMs: number;
  readonly corrected = createHistogram();
  readonly uncorrected = createHistogram();
  readonly lateness = createHistogram();
  readonly queue = createHistogram();
  readonly firstByte = createHistogram();
  /** Corrected time to the error (done − intended) of every failed request. */
  readonly errors = createHistogram();
  readonly errorsByKind = new Map<string, number>();
  sent = 0;
  completed = 0;
  failed = 0;
  /** When the last request of the window was handed to undici. */
  lastSent = Number.NEGATIVE_INFINITY;
  #live: LiveInterval | undefined;
  /** Closed intervals not yet encoded; encoding is left for idle moments of the scheduler. */
  #closed: LiveInterval[] = [];
  #encoded: EncodedInterval[] = [];
  /** Histograms of closed intervals are recycled rather than allocated anew each interval (70 KiB each). */
  #spare: Histogram[] = [];
  /** The encoded histograms of the interval being encoded, in order corrected, uncorrected, lateness. */
  #parts: string[] = [];

  constructor(t0: number, intervalMs = 1000) {
    if (!(intervalMs > 0)) throw new RangeError(`interval must be > 0 ms, got ${intervalMs}`);
    this.t0 = t0;
    this.intervalMs = intervalMs;
  }

  onSent(t: RequestTiming): void {
    this.sent++;
    if (t.sent > this.lastSent) this.lastSent = t.sent;
  }

  success(t: RequestTiming): void {
    this.completed++;
    const corrected = msToRecordableUs(t.done - t.intended);
    // A request that was never seen on the wire (should not happen for a success) counts from when it was sent.
    const uncorrected = msToRecordableUs(t.done - (t.written || t.sent));
    const lateness = msToRecordableUs(t.sent - t.intended);
    this.corrected.recordValue(corrected);
    this.uncorrected.recordValue(uncorrected);
    this.lateness.recordValue(lateness);
    this.queue.recordValue(msToRecordableUs((t.written || t.sent) - t.sent));
    this.firstByte.recordValue(msToRecordableUs((t.firstByte || t.done) - t.intended));
    const live = this.#intervalFor(t.done);
    live.completed++;
    live.corrected.recordValue(corrected);
    live.uncorrected.recordValue(uncorrected);
    live.lateness.recordValue(lateness);
  }

  failure(kind: string, t: RequestTiming): void {
    this.failed++;
    this.errorsByKind.set(kind, (this.errorsByKind.get(kind) ?? 0) + 1);
    this.errors.recordValue(msToRecordableUs(t.done - t.intended));
    // Lateness is the generator's, whatever the answer was.
    this.lateness.recordValue(msToRecordableUs(t.sent - t.intended));
    this.#intervalFor(t.done).errors++;
  }

  /** Closed intervals still waiting to be encoded. */
  get pendingIntervals(): number {
    return this.#closed.length;
  }

  /**
   * Encode one histogram of the oldest closed interval (≈0.05-0.3 ms of CPU each here; a whole interval at once
   * measured 0.45-1.3 ms, more than the slack between two requests at 1,000 req/s). The generator calls this only
   * when the next intended start is far enough away, so encoding does not make requests late; `finish` encodes what
   * is left.
   */
  encodeStep(): boolean {
    const iv = this.#closed[0];
    if (!iv) return false;
    const parts = this.#parts;
    parts.push(encode(parts.length === 0 ? iv.corrected : parts.length === 1 ? iv.uncorrected : iv.lateness));
    if (parts.length < 3) return true;
    this.#closed.shift();
    this.#encoded.push({
      startMs: iv.index * this.intervalMs,
      durationMs: this.intervalMs,
      completed: iv.completed,
      errors: iv.errors,
      corrected: parts[0]!,
      uncorrected: parts[1]!,
      lateness: parts[2]!,
    });
    this.#parts = [];
    for (const h of [iv.corrected, iv.uncorrected, iv.lateness]) {
      h.reset();
      if (this.#spare.length < 6) this.#spare.push(h);
    }
    return true;
  }

  /** Encode the rest of the oldest closed interval. */
  encodeOne(): boolean {
    const before = this.#closed.length;
    if (before === 0) return false;
    while (this.#closed.length === before) this.encodeStep();
    return true;
  }

  /** All intervals, in order, encoded (closes the live one). */
  finish(): EncodedInterval[] {
    if (this.#live) {
      this.#closed.push(this.#live);
      this.#live = undefined;
    }
    while (this.encodeOne());
    return this.#encoded.sort((a, b) => a.startMs - b.startMs);
  }

  #take(): Histogram {
    return this.#spare.pop() ?? createHistogram();
  }

  #newInterval(index: number): LiveInterval {
    return { index, completed: 0, errors: 0, corrected: this.#take(), uncorrected: this.#take(), lateness: this.#take() };
  }

  /**
   * Samples go to the interval of their completion time, as HdrHistogram's interval logs do (values recorded
   * during the interval). Completions arrive in time order, so a sample in interval j closes every interval before
   * j; empty intervals in between (a stall longer than an interval) are kept, with empty histograms.
   */
  #intervalFor(doneMs: number): LiveInterval {
    const index = Math.max(0, Math.floor((doneMs - this.t0) / this.intervalMs));
    const live = this.#live;
    if (live && live.index === index) return live;
    if (live && index < live.index) {
      // Cannot happen with one monotonic clock; recorded in the live interval rather than reopening a closed one.
      return live;
    }
    if (live) this.#closed.push(live);
    // From the interval after the live one (or from the first), so the run's intervals have no holes.
    for (let i = live ? live.index + 1 : 0; i < index; i++) this.#closed.push(this.#newInterval(i));
    const fresh = this.#newInterval(index);
    this.#live = fresh;
    return fresh;
  }
}
