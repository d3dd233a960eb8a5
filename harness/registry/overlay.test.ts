import { describe, expect, test } from 'vitest';
import { addTarEntry, emptyLayerIndex, type LayerEntry, type LayerIndex, resolvePath } from './overlay.ts';

const file = (head = 'x'): LayerEntry => ({ type: 'file', mode: 0o755, size: 10, head: Buffer.from(head) });
const link = (to: string): LayerEntry => ({ type: 'symlink', linkname: to, mode: 0o777, size: 0 });
function layer(entries: Array<[string, LayerEntry | 'wh' | 'opq']>): LayerIndex {
  const l = emptyLayerIndex();
  for (const [name, e] of entries) {
    if (e === 'wh') addTarEntry(l, name.replace(/([^/]+)$/, '.wh.$1'), { type: 'file', mode: 0, size: 0 });
    else if (e === 'opq') addTarEntry(l, `${name}/.wh..wh..opq`, { type: 'file', mode: 0, size: 0 });
    else addTarEntry(l, name, e);
  }
  return l;
}

describe('overlay path resolution (top layer first)', () => {
  test('the top layer wins; a lower layer is needed only when the top one does not decide', () => {
    const top = layer([['usr/local/bin/app', file('top')]]);
    const base = layer([['usr/local/bin/app', file('base')], ['bin/sh', file()]]);
    const r = resolvePath([top, base], 1, 2, '/usr/local/bin/app');
    expect(r).toMatchObject({ state: 'found', layer: 0 });
    expect(resolvePath([top], 1, 2, '/bin/sh')).toEqual({ state: 'unknown' });
    expect(resolvePath([top, base], 2, 2, '/bin/sh')).toMatchObject({ state: 'found', layer: 1 });
  });

  test('merged-/usr images: /bin is a symlink to usr/bin', () => {
    const base = layer([['bin', link('usr/bin')], ['usr/bin/bash', file()]]);
    const r = resolvePath([base], 1, 1, '/bin/bash');
    expect(r).toMatchObject({ state: 'found', path: '/usr/bin/bash', via: ['/bin -> usr/bin'] });
  });

  test('absolute and relative symlinks, and a symlink loop', () => {
    const l = layer([
      ['usr/local/bin/node', link('/opt/node/bin/node')],
      ['opt/node/bin/node', file()],
      ['usr/bin/python3', link('python3.11')],
      ['usr/bin/python3.11', file()],
      ['a', link('b')],
      ['b', link('a')],
    ]);
    expect(resolvePath([l], 1, 1, '/usr/local/bin/node')).toMatchObject({ state: 'found', path: '/opt/node/bin/node' });
    expect(resolvePath([l], 1, 1, '/usr/bin/python3')).toMatchObject({ state: 'found', path: '/usr/bin/python3.11' });
    expect(resolvePath([l], 1, 1, '/a')).toMatchObject({ state: 'absent', reason: expect.stringMatching(/too many symlinks/) });
  });

  test('whiteouts delete lower files; opaque directories hide lower contents', () => {
    const top = layer([['usr/bin/tool', 'wh'], ['opt/app', 'opq'], ['opt/app/new', file()]]);
    const base = layer([['usr/bin/tool', file()], ['opt/app/old', file()]]);
    expect(resolvePath([top, base], 1, 2, '/usr/bin/tool')).toMatchObject({ state: 'absent' });
    expect(resolvePath([top, base], 1, 2, '/opt/app/old')).toMatchObject({ state: 'absent' });
    expect(resolvePath([top, base], 1, 2, '/opt/app/new')).toMatchObject({ state: 'found' });
  });

  test('hard links resolve to the linked file', () => {
    const l = layer([['usr/bin/busybox', file('bb')], ['bin/sh', { type: 'hardlink', linkname: 'usr/bin/busybox', mode: 0o755, size: 0 }]]);
    const r = resolvePath([l], 1, 1, '/bin/sh');
    expect(r.state === 'found' && Buffer.from(r.entry.head!).toString()).toBe('bb');
  });

  test('a file used as a directory is absent, with the reason', () => {
    const l = layer([['bin/sh', file()]]);
    expect(resolvePath([l], 1, 1, '/bin/sh/x')).toMatchObject({ state: 'absent', reason: '/bin/sh is not a directory' });
  });
});
