/** After every other project: no container, network or volume of meshcheck's (or of testcontainers') remains. */
import { describe, expect, test } from 'vitest';
import { runCommand } from '../process/run.ts';
import { requireTestbed } from './testbed.ts';

const bed = await requireTestbed();

async function list(kind: 'ps' | 'network' | 'volume', label: string): Promise<string[]> {
  const args = kind === 'ps' ? ['ps', '-a', '--filter', `label=${label}`, '--format', '{{.ID}} {{.Image}} {{.Status}}'] : [kind, 'ls', '--filter', `label=${label}`, '--format', '{{.Name}}'];
  const r = await runCommand('docker', args);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

describe.runIf(bed)('after the test run', () => {
  test.each(['meshcheck.managed', 'org.testcontainers'])('no container, network or volume labelled %s remains', async (label) => {
    expect(await list('ps', label)).toEqual([]);
    expect(await list('network', label)).toEqual([]);
    expect(await list('volume', label)).toEqual([]);
  });
});
