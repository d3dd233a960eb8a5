import { describe, expect, it } from 'vitest';
import { parseObjects } from '../../harness/kube/apply.ts';
import { faultStages, FAULTS } from './kwok.ts';
import { pickChecksum } from './obtain.ts';

const H = 'a'.repeat(64);
const G = 'b'.repeat(64);

describe('checksums of downloads', () => {
  it('reads a bare .sha256 file and the line of a SHA256SUMS file', () => {
    expect(pickChecksum(`${H}\n`)).toBe(H);
    expect(pickChecksum(`${H}  istioctl-1.27.0-linux-amd64.tar.gz\n`)).toBe(H);
    expect(pickChecksum(`${H}  etcd-v3.5.21-linux-arm64.tar.gz\n${G}  etcd-v3.5.21-linux-amd64.tar.gz\n`, 'etcd-v3.5.21-linux-amd64.tar.gz')).toBe(G);
    expect(pickChecksum(`${H}  other\n`, 'missing')).toBeUndefined();
    expect(pickChecksum('<html>not found</html>')).toBeUndefined();
  });
});

describe('kwok fault stages', () => {
  it('one stage per fault, each selecting its label, outranking pod-ready and never matching a pod twice', () => {
    const stages = parseObjects(faultStages().join('\n---\n'));
    expect(stages.map((s) => s.metadata.name)).toEqual(FAULTS.map((f) => `meshcheck-fault-${f}`));
    for (const [i, s] of stages.entries()) {
      const spec = s.spec as { weight: number; selector: { matchExpressions: { key: string; values?: string[] }[] } };
      expect(spec.weight).toBe(100);
      expect(spec.selector.matchExpressions[0]?.values).toEqual([FAULTS[i]]);
      expect(spec.selector.matchExpressions.map((m) => m.key)).toContain('.status.podIP');
    }
  });
});
