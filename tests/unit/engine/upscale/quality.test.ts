
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineContext } from '../../../../src/engine/runtime/context';
import { upscaleImage } from '../../../../src/engine/upscale/upscale';
import { BUNDLED_UPSCALERS, UpscaleParams } from '../../../../src/shared/upscale';
import { recordingHooks, tempDir } from '../helpers';
import { bundledDir, PHOTO, rgbOf } from './helpers';
import { bicubicDownscale, psnr, ssim } from './metrics';

/**
 * Trained weights do their job: the CC0 photograph is reduced ×2 and ×4 as the DIV2K
 * training pictures were (MATLAB-style antialiased bicubic, `bicubicDownscale`), enlarged back by each bundled model
 * through the engine's own upscale path (conversion into the cache, tiles, PNG), and compared
 * with the original: PSNR and SSIM on luma, `scale` px border cropped. Each model must beat plain
 * bicubic enlargement (sharp `cubic`) of the same small picture on both.
 */
const ctx = createEngineContext({ provider: 'cpu', intraOpThreads: 2 });
const work = tempDir('atelier-upscale-quality-');
const cacheDir = path.join(work, 'converted');
const rows: string[] = [];
const small = new Map<number, string>();
const originals = new Map<number, { data: Uint8Array; width: number; height: number }>();

beforeAll(async () => {
  for (const scale of [2, 4]) {
    // ×4: the whole photograph; ×2: its 300×200 centre, so both runs see 150×100 source pixels.
    const original = await rgbOf(PHOTO, scale === 2 ? { left: 150, top: 100, width: 300, height: 200 } : undefined);
    originals.set(scale, original);
    const file = path.join(work, `coffee-x${scale}-down.png`);
    const down = bicubicDownscale(original.data, original.width, original.height, scale);
    await sharp(Buffer.from(down.data), { raw: { width: down.width, height: down.height, channels: 3 } }).png().toFile(file);
    small.set(scale, file);
  }
});

afterAll(async () => {
  await ctx.resident.clear();
  console.log(`| model | scale | PSNR (dB) | SSIM |\n|---|---|---|---|\n${rows.join('\n')}`);
});

async function scores(rgb: Uint8Array, scale: number): Promise<{ psnr: number; ssim: number }> {
  const original = originals.get(scale)!;
  return { psnr: psnr(original.data, rgb, original.width, original.height, scale), ssim: ssim(original.data, rgb, original.width, original.height, scale) };
}

describe('upscale quality on a real photograph', () => {
  for (const scale of [2, 4]) {
    it(`each bundled ×${scale} model beats bicubic`, async () => {
      const original = originals.get(scale)!;
      const bicubicRgb = await rgbOf(await sharp(small.get(scale)!).resize(original.width, original.height, { kernel: 'cubic' }).png().toBuffer());
      const bicubic = await scores(bicubicRgb.data, scale);
      rows.push(`| bicubic | ×${scale} | ${bicubic.psnr.toFixed(2)} | ${bicubic.ssim.toFixed(4)} |`);
      for (const model of BUNDLED_UPSCALERS.filter((m) => m.scale === scale)) {
        const outDir = tempDir('atelier-upscale-out-');
        const params = UpscaleParams.parse({ mode: 'upscale', model: model.id, scale, tile: 192, overlap: 16 });
        const result = await upscaleImage(bundledDir(model), params, { sessions: ctx.sessions, hooks: recordingHooks(), outDir, cacheDir, sourcePath: small.get(scale)!, thumbnails: false });
        const png = result.outputs.find((o) => o.role === 'image')!;
        expect([png.width, png.height]).toEqual([original.width, original.height]);
        const up = await rgbOf(png.path);
        const s = await scores(up.data, scale);
        rows.push(`| ${model.id} | ×${scale} | ${s.psnr.toFixed(2)} | ${s.ssim.toFixed(4)} |`);
        expect(s.psnr, `${model.id} PSNR vs bicubic ${bicubic.psnr.toFixed(2)}`).toBeGreaterThan(bicubic.psnr);
        expect(s.ssim, `${model.id} SSIM vs bicubic ${bicubic.ssim.toFixed(4)}`).toBeGreaterThan(bicubic.ssim);
      }
    }, 180_000);
  }
});

