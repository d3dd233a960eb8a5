/**
 * Reading image layers as streams: decompress (gzip, zstd or none — from the media type, confirmed by the magic
 * bytes), parse the tar, and index its headers into a LayerIndex. Only the first bytes of executable files are
 * kept, so an image of any size costs little memory; the bytes read are counted for the bench.
 */
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { extract } from 'tar-stream';
import { addTarEntry, emptyLayerIndex, type LayerEntry, type LayerIndex } from './overlay.ts';

/** ELF header + program headers + PT_INTERP fit in this for ordinary binaries; a #! line always does. */
export const HEAD_BYTES = 8192;

export type Compression = 'gzip' | 'zstd' | 'none';

export function compressionOf(mediaType: string): Compression | undefined {
  if (/\+gzip$|\.tar\.gzip$|rootfs\.diff\.tar\.gzip$/.test(mediaType)) return 'gzip';
  if (/\+zstd$/.test(mediaType)) return 'zstd';
  if (/\.tar$/.test(mediaType)) return 'none';
  return undefined;
}

function sniff(first: Buffer): Compression {
  if (first[0] === 0x1f && first[1] === 0x8b) return 'gzip';
  if (first[0] === 0x28 && first[1] === 0xb5 && first[2] === 0x2f && first[3] === 0xfd) return 'zstd';
  return 'none';
}

export interface ScanResult {
  index: LayerIndex;
  /** Compressed bytes read from the registry. */
  bytesRead: number;
  compression: Compression;
}

function entryType(t: string | null | undefined): LayerEntry['type'] {
  switch (t) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'dir';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other';
  }
}

/** Read a whole layer stream into an index, keeping the head of executable regular files. */
export async function scanLayer(source: Readable, mediaType: string): Promise<ScanResult> {
  let bytesRead = 0;
  let compression: Compression | undefined;
  const index = emptyLayerIndex();
  const counted = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytesRead += chunk.length;
      cb(null, chunk);
    },
  });
  // Decide the decompressor from the first bytes (media types are sometimes wrong, e.g. "+gzip" on plain tar).
  const decompressed = new PassThrough();
  let chosen: Transform | undefined;
  const router = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!chosen) {
        // The bytes decide; the media type only fills in when the layer is empty.
        compression = sniff(chunk);
        chosen =
          compression === 'gzip' ? zlib.createGunzip() : compression === 'zstd' ? zlib.createZstdDecompress() : new PassThrough();
        chosen.on('error', (err) => decompressed.destroy(err));
        chosen.pipe(decompressed);
      }
      if (chosen.write(chunk)) cb();
      else chosen.once('drain', () => cb());
    },
    flush(cb) {
      if (!chosen) {
        decompressed.end();
        return cb();
      }
      chosen.end(() => cb());
    },
  });
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    const type = entryType(header.type);
    const entry: LayerEntry = { type, mode: header.mode ?? 0, size: header.size ?? 0 };
    if (header.linkname) entry.linkname = header.linkname;
    const keep = type === 'file' && (entry.mode & 0o111) !== 0 && entry.size > 0;
    if (!keep) {
      addTarEntry(index, header.name, entry);
      stream.on('end', next);
      stream.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let have = 0;
    stream.on('data', (data: unknown) => {
      const c = data as Buffer;
      if (have < HEAD_BYTES) {
        chunks.push(c.subarray(0, HEAD_BYTES - have));
        have += Math.min(c.length, HEAD_BYTES - have);
      }
    });
    stream.on('end', () => {
      entry.head = Buffer.concat(chunks);
      addTarEntry(index, header.name, entry);
      next();
    });
  });
  await Promise.all([pipeline(source, counted, router), pipeline(decompressed, tar)]);
  return { index, bytesRead, compression: compression ?? compressionOf(mediaType) ?? 'none' };
}
