import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSameSizeFolder, buildSrFolder } from '../../../../scripts/fixtures/upscale';
import { createEngineContext } from '../../../../src/engine/runtime/context';
import { inspectUpscaleModel } from '../../../../src/engine/upscale/inspect';
import { upscaleImage } from '../../../../src/engine/upscale/upscale';
import { UpscaleParams } from '../../../../src/shared/upscale';
import { recordingHooks, tempDir } from '../helpers';
import { PHOTO } from './helpers';

/** Real-ESRGAN-layout folders (one .onnx, NCHW RGB 0–1, names of their own) load, probe, run; others are refused with the reason. */
const ctx = createEngineContext({ provider: 'cpu', intraOpThreads: 1 });
const work = tempDir('atelier-upscale-import-');
const cache = path.join(work, 'cache');
afterAll(() => ctx.resident.clear());

describe('super-resolution model folders', () => {
  it('finds the names, type and scale of a Real-ESRGAN-layout ×2 export and runs it with alpha kept', async () => {
    const dir = buildSrFolder(path.join(work, 'realesrgan-x2'), { scale: 2, inputName: 'lr_pixels', outputName: 'sr_pixels' });
    const summary = await inspectUpscaleModel(ctx, dir, cache);
    expect(summary).toMatchObject({ scale: 2, format: 'onnx', inputName: 'lr_pixels', outputName: 'sr_pixels', inputType: 'float32', fixedSize: null });

    // A 70×50 RGBA picture: its alpha must come back upscaled, not dropped.
    const source = path.join(work, 'rgba.png');
    const { data } = await sharp(PHOTO).extract({ left: 200, top: 100, width: 70, height: 50 }).raw().toBuffer({ resolveWithObject: true });
    const rgba = Buffer.alloc(70 * 50 * 4);
    for (let i = 0; i < 70 * 50; i++) {
      data.copy(rgba, i * 4, i * 3, i * 3 + 3);
      rgba[i * 4 + 3] = i % 70 < 35 ? 255 : 0;
    }
    await sharp(rgba, { raw: { width: 70, height: 50, channels: 4 } }).png().toFile(source);
    const hooks = recordingHooks();
    const params = UpscaleParams.parse({ mode: 'upscale', model: 'realesrgan-x2', tile: 32, overlap: 8 });
    const result = await upscaleImage(dir, params, { sessions: ctx.sessions, hooks, outDir: tempDir(), cacheDir: cache, sourcePath: source });
    const png = result.outputs.find((o) => o.role === 'image')!;
    const meta = await sharp(png.path).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([140, 100, 4]);
    const { data: out } = await sharp(png.path).raw().toBuffer({ resolveWithObject: true });
    expect(out[(50 * 140 + 10) * 4 + 3]).toBe(255);
    expect(out[(50 * 140 + 130) * 4 + 3]).toBe(0);
    // 70×50 in 32 px tiles overlapping by 8: 3 columns × 2 rows, one progress report each.
    expect(hooks.progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.meta).toMatchObject({ upscale: { scale: 2, tile: 32, alpha: true, inputName: 'lr_pixels', outputName: 'sr_pixels' } });
  });

  it('runs a float16 ×4 export', async () => {
    const dir = buildSrFolder(path.join(work, 'fp16-x4'), { scale: 4, inputName: 'input', outputName: 'output', fp16: true });
    const summary = await inspectUpscaleModel(ctx, dir, cache);
    expect(summary).toMatchObject({ scale: 4, inputType: 'float16' });
    const params = UpscaleParams.parse({ mode: 'upscale', model: 'fp16', tile: 0 });
    const source = path.join(work, 'small.png');
    await sharp(PHOTO).extract({ left: 0, top: 0, width: 24, height: 16 }).png().toFile(source);
    const result = await upscaleImage(dir, params, { sessions: ctx.sessions, hooks: recordingHooks(), outDir: tempDir(), cacheDir: cache, sourcePath: source, thumbnails: false });
    expect(result.outputs[0]).toMatchObject({ width: 96, height: 64 });
  });

  it('refuses a same-size model, a folder with two .onnx files and an empty folder, saying why', async () => {
    const same = buildSameSizeFolder(path.join(work, 'denoise'));
    await expect(inspectUpscaleModel(ctx, same, cache)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('same size') });

    const two = buildSrFolder(path.join(work, 'two'), { scale: 2, inputName: 'a', outputName: 'b' });
    copyFileSync(path.join(two, 'RealESRGAN_x2plus_tiny.onnx'), path.join(two, 'copy.onnx'));
    await expect(inspectUpscaleModel(ctx, two, cache)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('2 .onnx files') });

    const empty = path.join(work, 'empty');
    mkdirSync(empty);
    await expect(inspectUpscaleModel(ctx, empty, cache)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('no .onnx file and no model.json') });
  });

  it('refuses a model asked for another factor than it makes', async () => {
    const dir = path.join(work, 'realesrgan-x2');
    const params = UpscaleParams.parse({ mode: 'upscale', model: 'x2', scale: 4 });
    await expect(upscaleImage(dir, params, { sessions: ctx.sessions, hooks: recordingHooks(), outDir: tempDir(), cacheDir: cache, sourcePath: PHOTO })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('×2, not ×4') });
  });
});
