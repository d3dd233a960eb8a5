/**
 * Path resolution across image layers, as an overlay filesystem (and containerd's snapshotter) sees them
 * (image-spec layer.md: changesets, whiteouts ".wh.<name>", opaque directories ".wh..wh..opq"). Pure: the layers
 * are indexes of tar headers (plus the first bytes of files), listed top layer first. Layers below `scanned` are
 * not read yet; a lookup that would need them answers "unknown" so the caller reads one more layer and asks again.
 */
import path from 'node:path';

export interface LayerEntry {
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  /** Symlink or hardlink target as stored in the tar header. */
  linkname?: string;
  mode: number;
  size: number;
  /** The first bytes of a regular file (enough for an ELF header and program headers, or a #! line). */
  head?: Uint8Array;
}

export interface LayerIndex {
  entries: Map<string, LayerEntry>;
  /** Paths deleted by this layer (".wh.<name>"). */
  whiteouts: Set<string>;
  /** Directories whose lower-layer contents this layer hides (".wh..wh..opq"). */
  opaque: Set<string>;
  /** Directories that exist because something below them is in this layer. */
  impliedDirs: Set<string>;
}

export function emptyLayerIndex(): LayerIndex {
  return { entries: new Map(), whiteouts: new Set(), opaque: new Set(), impliedDirs: new Set() };
}

/** Normalise a tar member name ("./usr/bin/x", "usr/bin/x/") to an absolute path. */
export function normalizeTarPath(name: string): string {
  const p = path.posix.normalize(`/${name}`);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** Record one tar header in a layer index, turning whiteout markers into deletions. */
export function addTarEntry(layer: LayerIndex, name: string, entry: LayerEntry): void {
  const p = normalizeTarPath(name);
  const dir = path.posix.dirname(p);
  const base = path.posix.basename(p);
  if (base === '.wh..wh..opq') {
    layer.opaque.add(dir);
  } else if (base.startsWith('.wh.')) {
    layer.whiteouts.add(path.posix.join(dir, base.slice(4)));
  } else {
    layer.entries.set(p, entry);
  }
  for (let d = dir; d !== '/'; d = path.posix.dirname(d)) {
    if (layer.impliedDirs.has(d)) break;
    layer.impliedDirs.add(d);
  }
}

export type Lookup = { state: 'found'; entry: LayerEntry; layer: number } | { state: 'absent' } | { state: 'unknown' };

/** The topmost version of one exact path (no symlink following). */
export function lookupEntry(layers: readonly LayerIndex[], scanned: number, total: number, p: string): Lookup {
  if (p === '/') return { state: 'found', entry: { type: 'dir', mode: 0o755, size: 0 }, layer: 0 };
  for (let i = 0; i < scanned; i++) {
    const layer = layers[i]!;
    const e = layer.entries.get(p);
    if (e) return { state: 'found', entry: e, layer: i };
    if (layer.impliedDirs.has(p)) return { state: 'found', entry: { type: 'dir', mode: 0o755, size: 0 }, layer: i };
    if (layer.whiteouts.has(p)) return { state: 'absent' };
    // A deleted or opaque ancestor hides everything below it in lower layers.
    for (let d = path.posix.dirname(p); d !== '/'; d = path.posix.dirname(d)) {
      if (layer.whiteouts.has(d) || layer.opaque.has(d)) return { state: 'absent' };
    }
  }
  return scanned >= total ? { state: 'absent' } : { state: 'unknown' };
}

export type Resolution =
  | { state: 'found'; path: string; entry: LayerEntry; layer: number; via: string[] }
  | { state: 'absent'; path: string; reason: string }
  | { state: 'unknown' };

const MAX_SYMLINKS = 40; // Linux's MAXSYMLINKS

/** Resolve a path the way the kernel would inside the image: every component, following symlinks and hardlinks. */
export function resolvePath(layers: readonly LayerIndex[], scanned: number, total: number, target: string): Resolution {
  let pending = normalizeTarPath(target).split('/').filter(Boolean);
  let current = '/';
  const via: string[] = [];
  let hops = 0;
  while (pending.length) {
    const name = pending.shift()!;
    const p = path.posix.join(current, name);
    const l = lookupEntry(layers, scanned, total, p);
    if (l.state === 'unknown') return l;
    if (l.state === 'absent') return { state: 'absent', path: p, reason: `${p} does not exist in the image` };
    const { entry } = l;
    if (entry.type === 'symlink' && entry.linkname !== undefined) {
      if (++hops > MAX_SYMLINKS) return { state: 'absent', path: p, reason: `too many symlinks at ${p}` };
      via.push(`${p} -> ${entry.linkname}`);
      const base = entry.linkname.startsWith('/') ? '/' : current;
      pending = [...path.posix.join(base, entry.linkname).split('/').filter(Boolean), ...pending];
      current = '/';
      continue;
    }
    if (entry.type === 'hardlink' && entry.linkname !== undefined && pending.length === 0) {
      // A hard link's data is that of the file it names (in the same layer's tar).
      via.push(`${p} => /${entry.linkname}`);
      const linked = resolvePath(layers, scanned, total, normalizeTarPath(entry.linkname));
      return linked.state === 'found' ? { ...linked, via: [...via, ...linked.via] } : linked;
    }
    if (pending.length && entry.type !== 'dir') return { state: 'absent', path: p, reason: `${p} is not a directory` };
    current = p;
  }
  const l = lookupEntry(layers, scanned, total, current);
  if (l.state !== 'found') return l.state === 'unknown' ? l : { state: 'absent', path: current, reason: `${current} does not exist` };
  return { state: 'found', path: current, entry: l.entry, layer: l.layer, via };
}
