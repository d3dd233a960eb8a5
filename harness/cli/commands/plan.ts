/** `--dry-run` output shared by the cluster and mesh commands: every command and every file, nothing run. */
import type { PlannedCommand } from '../../mesh/adapter.ts';
import { formatCommand } from '../../process/format.ts';

export interface Plan {
  title: string;
  commands: PlannedCommand[];
  /** Files that would be written, path → content. */
  files: Record<string, string>;
  notes?: string[];
}

export function renderPlan(p: Plan): string {
  const out: string[] = [`# plan: ${p.title} (dry run: nothing is run or written)`];
  for (const n of p.notes ?? []) out.push(`# note: ${n}`);
  p.commands.forEach((c, i) => {
    // Steps that are API calls, not programs, are written as such: "(kubernetes API) GET /api/v1/nodes".
    out.push(`\n# ${i + 1}. ${c.description}`, c.file.startsWith('(') ? `${c.file} ${c.args.join(' ')}` : formatCommand(c.file, c.args));
  });
  for (const [file, content] of Object.entries(p.files)) {
    out.push(`\n# file ${file}`, content.trimEnd());
  }
  return `${out.join('\n')}\n`;
}
