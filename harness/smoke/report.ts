/** `meshcheck smoke --json`: versioned like the audit report (schema id changes only when a field changes meaning). */
export const SMOKE_SCHEMA_ID = 'meshcheck.smoke/v1';

import type { ImageSmoke } from './smoke-image.ts';

export interface SmokeReport {
  schema: typeof SMOKE_SCHEMA_ID;
  meshcheckVersion: string;
  generatedAt: string;
  runId: string;
  host: { arch: string; qemu?: string; cpuModels?: string[] };
  /** Emulated runs get nativeMs × emulatedFactor (from --calibrate or --emulation-factor). */
  timeouts: { nativeMs: number; emulatedFactor: number };
  platforms: string[];
  /** CPU models of the arm64 sweep (empty when not emulating arm64). */
  cpus: string[];
  images: Array<ImageSmoke & { from: string[]; error?: string }>;
  problems: Array<{ from: string; message: string; fix?: string }>;
  summary: { images: number; checks: number; byVerdict: Record<string, number>; failing: number; uncheckable: number };
  exitCode: number;
}
