import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { RunHooks } from '../../../../src/shared/engine-protocol';
import type { ImageParams } from '../../../../src/shared/params';
import type { LoadedSession, SessionSource } from '../../../../src/engine/runtime/types';

/** Plain CPU sessions, cached per file; records every feed's dims per model file. */
export class CpuSessions implements SessionSource {
  private readonly cache = new Map<string, Promise<LoadedSession>>();
  readonly calls: { path: string; feeds: Record<string, readonly number[]> }[] = [];

  load(modelFile: string): Promise<LoadedSession> {
    let p = this.cache.get(modelFile);
    if (!p) {
      p = ort.InferenceSession.create(modelFile, { executionProviders: ['cpu'], intraOpNumThreads: 1 }).then((session) => {
        const orig = session.run.bind(session);
        const spy = ((feeds: ort.InferenceSession.FeedsType, ...rest: []) => {
          const dims: Record<string, readonly number[]> = {};
          for (const [k, v] of Object.entries(feeds)) dims[k] = v.dims;
          this.calls.push({ path: modelFile, feeds: dims });
          return orig(feeds, ...rest);
        }) as typeof session.run;
        Object.defineProperty(session, 'run', { value: spy });
        return { session, path: modelFile, provider: 'cpu' as const };
      });
      this.cache.set(modelFile, p);
    }
    return p;
  }
}

export function hooks(overrides: Partial<RunHooks> = {}): RunHooks & { progress: [number, number][]; previews: string[] } {
  const progress: [number, number][] = [];
  const previews: string[] = [];
  return {
    signal: new AbortController().signal,
    onProgress: (s, t) => progress.push([s, t]),
    onPreview: (_s, url) => previews.push(url),
    progress,
    previews,
    ...overrides,
  };
}

export function params(p: Partial<ImageParams> = {}): ImageParams {
  return {
    model: 'fixture',
    prompt: 'a photo of a cat',
    negativePrompt: 'blurry',
    width: 64,
    height: 64,
    steps: 20,
    guidance: 7,
    scheduler: 'euler',
    seed: 1,
    batch: 1,
    strength: 0.75,
    ...p,
  };
}

export async function rgb(file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(readFileSync(file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error('size mismatch');
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}
