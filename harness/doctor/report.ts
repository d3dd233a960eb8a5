/** The shape of `meshcheck doctor --json`. Field names are part of meshcheck's machine-readable interface. */
import type { BinfmtHandler } from '../arch/binfmt.ts';
import type { Calibration } from '../arch/calibrate.ts';
import type { CapabilityReport } from '../arch/capabilities.ts';
import type { DockerEngineInfo, QemuInfo } from '../arch/host.ts';
import type { ToolStatus } from '../process/tools.ts';

export interface PlatformReach {
  platform: string;
  runnable: boolean;
  how: 'native' | 'emulated' | 'none';
  /** The binfmt handler that runs it, when emulated. */
  handler?: string;
  interpreter?: string;
  flags?: string;
  /**
   * Inside containers (and kind nodes) too? Only with the F flag: without it the kernel looks the interpreter up
   * in the container's own filesystem, where it is not, and the container fails to start.
   */
  inContainers?: boolean;
  /**
   * A wrong-arch binary RUNS (slowly, emulated) instead of failing with "exec format error". True for the host's
   * own arch never; true for an emulated arch whose handler is enabled.
   */
  wrongArchRunsSilently: boolean;
  note?: string;
  fix?: string;
}

export interface Problem {
  severity: 'error' | 'warning' | 'info';
  message: string;
  fix?: string;
}

/** `doctor --calibrate`: the measured factors, or why none could be measured. */
export type CalibrationReport = Calibration | { arch?: string; problem: string; fix?: string };

export interface DoctorReport {
  meshcheckVersion: string;
  generatedAt: string;
  host: { arch: string; platform: string; kernel: string; pageSize?: number };
  platforms: PlatformReach[];
  emulation: { binfmtMounted: boolean; binfmtEnabled: boolean; handlers: BinfmtHandler[]; qemu: QemuInfo[] };
  docker: DockerEngineInfo & { fix?: string };
  tools: ToolStatus[];
  /**
   * What the data plane's traffic capture can use, per runnable arch (native first): the probe's socket calls,
   * run natively or through binfmt/QEMU.
   */
  capabilities: CapabilityReport[];
  /** Only with `--calibrate`: how much slower the emulated arch runs; timeouts are multiplied by `factor`. */
  calibration?: CalibrationReport;
  problems: Problem[];
}
