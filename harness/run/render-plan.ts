/** The plan as text for `meshcheck run --dry-run`: every cell, every stage, every command and file. */
import { formatCommand } from '../process/run.ts';
import type { CellPlan } from './plan.ts';

function line(file: string, args: string[]): string {
  return file.startsWith('(') ? `${file} ${args.join(' ')}` : formatCommand(file, args);
}

export function renderRunPlan(plans: readonly CellPlan[], header: string): string {
  const out = [`# ${header}`, `# ${plans.length} cell(s); dry run: nothing is run or written`];
  for (const p of plans) {
    out.push('', `## cell ${p.id}`);
    if (p.notRunnable) {
      out.push(`#  not runnable on this host: ${p.notRunnable.reason}${p.notRunnable.fix ? `\n#  fix: ${p.notRunnable.fix}` : ''}`);
    }
    for (const n of p.mode?.notes ?? []) out.push(`#  note: ${n}`);
    p.stages.forEach((s, i) => {
      out.push(`# ${i + 1}. ${s.stage}: ${s.description}${s.skip ? `  [skipped: ${s.skip}]` : ''}`);
      for (const c of s.commands) out.push(`   ${c.description ? `# ${c.description}\n   ` : ''}${line(c.file, c.args)}`);
      for (const [f, content] of Object.entries(s.files ?? {})) out.push(`   # file ${f}`, ...content.trimEnd().split('\n').map((l) => `   | ${l}`));
    });
  }
  return `${out.join('\n')}\n`;
}
