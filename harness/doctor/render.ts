/** Pure: a doctor report as text for a terminal. */
import { CAPABILITY_CALLS } from '../arch/capabilities.ts';
import type { DoctorReport } from './report.ts';

export function renderDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  const page = r.host.pageSize ? `${r.host.pageSize / 1024} KiB pages` : 'page size unknown';
  lines.push(`host        ${r.host.platform}, kernel ${r.host.kernel}, ${page}`);
  for (const p of r.platforms) {
    const how = p.how === 'native' ? 'native' : p.how === 'emulated' ? `emulated via ${p.handler} (flags ${p.flags || '-'})` : 'NOT RUNNABLE';
    lines.push(`${p.platform.padEnd(12)}${how}`);
    if (p.note && p.how !== 'native') lines.push(`            ${p.note}`);
  }
  for (const q of r.emulation.qemu) {
    const models = q.cpuModels?.length ? `; CPU models: ${q.cpuModels.join(', ')}` : '';
    lines.push(`qemu        ${q.version ?? 'version unknown'} (${q.interpreter})${models}`);
  }
  lines.push(`docker      ${r.docker.reachable ? `engine ${r.docker.serverVersion ?? '?'} (${r.docker.os ?? '?'}/${r.docker.arch ?? '?'})` : `not reachable: ${r.docker.problem ?? ''}`}`);
  for (const t of r.tools) {
    if (t.name === 'docker') continue;
    lines.push(`${t.name.padEnd(12)}${t.found ? `${t.version ?? '?'} (${t.path})` : 'not found'}${t.problem ? ` — ${t.problem}` : ''}`);
  }
  for (const c of r.capabilities) {
    const calls = c.problem ? `not probed: ${c.problem}` : CAPABILITY_CALLS.map((k) => `${k.name} ${c.supported[k.key] ? 'yes' : 'no'}`).join(', ');
    lines.push(`capture     ${c.platform} (${c.how}): ${calls}`);
  }
  const cal = r.calibration;
  if (cal && 'problem' in cal) lines.push(`calibration not measured (${cal.problem})`);
  else if (cal) {
    const ms = (x: number) => x.toFixed(1);
    lines.push(
      `calibration factor ${cal.factor.toFixed(1)} for linux/${cal.arch} against native linux/${cal.nativeArch} ` +
        `(CPU ${cal.cpuFactor.toFixed(2)}x: ${ms(cal.emulated.spinMs)} vs ${ms(cal.native.spinMs)} ms; ` +
        `start ${cal.startFactor.toFixed(2)}x: ${ms(cal.emulated.startMs)} vs ${ms(cal.native.startMs)} ms; medians of ${cal.reps})`,
    );
  }
  if (r.problems.length) {
    lines.push('');
    for (const p of r.problems) {
      lines.push(`${p.severity.padEnd(8)}${p.message}`);
      if (p.fix) lines.push(`        fix: ${p.fix}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
