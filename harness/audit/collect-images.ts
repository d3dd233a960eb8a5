/**
 * The image set of an audit: arguments, Kubernetes YAML files (or stdin) and an Istio version, deduplicated with
 * every place each image was named. A source that fails is reported as a problem; the others still count.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from '../context.ts';
import { findOnPath } from '../process/tools.ts';
import type { AuditInput } from './run-audit.ts';
import { dedupeImages, imagesFromKubeYaml } from './sources/kube-yaml.ts';
import { istioImages } from './sources/istio.ts';
import type { ImageUse, SourceProblem } from './sources/types.ts';

export interface ImageSources {
  images: string[];
  from: string[];
  istio?: { version: string; hub?: string; ambient: boolean; variant?: 'distroless' | 'debug' };
}

async function readSource(ctx: Context, file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(path.resolve(ctx.cwd, file), 'utf8');
}

export async function collectImages(ctx: Context, s: ImageSources): Promise<{ inputs: AuditInput[]; problems: SourceProblem[] }> {
  const uses: ImageUse[] = s.images.map((image, i) => ({ image, from: `argument ${i + 1}` }));
  const problems: SourceProblem[] = [];
  for (const file of s.from) {
    const origin = file === '-' ? 'stdin' : file;
    let text: string;
    try {
      text = await readSource(ctx, file);
    } catch (err) {
      problems.push({ from: origin, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, fix: 'check the path given to --from' });
      continue;
    }
    const set = imagesFromKubeYaml(text, origin);
    uses.push(...set.images);
    problems.push(...set.problems);
  }
  if (s.istio) {
    const istioctl = await findOnPath('istioctl', ctx.env);
    const set = await istioImages({ ...s.istio, ...(istioctl ? { istioctl } : {}), signal: ctx.signal });
    uses.push(...set.images);
    problems.push(...set.problems);
  }
  return { inputs: dedupeImages(uses), problems };
}
