import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { OutputFile, RunHooks, RunResult } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import { itxtChunk, textOrItxt } from '../../shared/png-chunks';
import { buildXmp, COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, TRAINED_ALGORITHMIC_MEDIA, XMP_KEYWORD } from '../../shared/provenance';
import type { UpscaleParams } from '../../shared/upscale';
import { encodePngWithSharp, writeThumbnailFromPixels } from '../media/png-thumbnail';
import { readPngParameters } from '../media/png';
import type { SessionSource } from '../runtime/types';
import { fromOutputTensor, loadUpscaleModel, toInputTensor, type UpscaleModelInfo } from './model';
import { upscaleTiled, type TileRunner } from './tiles';

export interface UpscaleOptions {
  sessions: SessionSource;
  hooks: RunHooks;
  outDir: string;
  /** Where converted TF.js models are cached. */
  cacheDir: string;
  sourcePath: string;
  /** Write a webp thumbnail beside the PNG (default true). */
  thumbnails?: boolean;
}

export interface DecodedPicture {
  /** Planar RGB floats in 0–1 (3·H·W). */
  planar: Float32Array;
  /** The alpha channel (H·W bytes) when the picture has one. */
  alpha: Uint8Array | null;
  width: number;
  height: number;
}

/** Reads any picture sharp reads (PNG, JPEG, WebP, …), upright and in sRGB. */
export async function decodePicture(file: string): Promise<DecodedPicture> {
  const image = sharp(file).rotate().toColourspace('srgb');
  const meta = await image.metadata();
  const { data, info } = await image.ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new StudioError('INVALID_INPUT', `${file} could not be read as an RGB picture.`);
  const { width, height } = info;
  const plane = width * height;
  const planar = new Float32Array(3 * plane);
  const alpha = meta.hasAlpha ? new Uint8Array(plane) : null;
  for (let i = 0; i < plane; i++) {
    planar[i] = data[i * 4]! / 255;
    planar[plane + i] = data[i * 4 + 1]! / 255;
    planar[2 * plane + i] = data[i * 4 + 2]! / 255;
    if (alpha) alpha[i] = data[i * 4 + 3]!;
  }
  return { planar, alpha, width, height };
}

export interface TileTimings {
  /** Sum of the session.run calls, in ms. */
  runMs: number;
  tiles: number;
}

/**
 * A TileRunner over a loaded model: converts to the model's input type, and for models that take
 * one fixed size, pads the tile (edge pixels repeated) and crops the result.
 */
export function sessionTileRunner(info: UpscaleModelInfo, run: (feeds: Record<string, ReturnType<typeof toInputTensor>>) => Promise<Record<string, unknown>>, timings: TileTimings): TileRunner {
  return async (input, width, height) => {
    const fixed = info.fixedSize;
    const W = fixed?.width ?? width;
    const H = fixed?.height ?? height;
    let data = input;
    if (W !== width || H !== height) {
      data = new Float32Array(3 * W * H);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) data[c * W * H + y * W + x] = input[c * width * height + Math.min(y, height - 1) * width + Math.min(x, width - 1)]!;
    }
    const t0 = performance.now();
    const result = await run({ [info.inputName]: toInputTensor(data, W, H, info.inputType) });
    timings.runMs += performance.now() - t0;
    timings.tiles++;
    const tensor = result[info.outputName];
    if (!tensor || typeof tensor !== 'object' || !('dims' in tensor)) throw new StudioError('MODEL_INVALID', `The upscale model returned no ${info.outputName}.`);
    const out = fromOutputTensor(tensor as Parameters<typeof fromOutputTensor>[0]);
    if (W === width && H === height) return out;
    const s = info.scale;
    const cropped = new Float32Array(3 * width * s * height * s);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < height * s; y++) {
        const src = c * W * s * H * s + y * W * s;
        cropped.set(out.subarray(src, src + width * s), c * width * s * height * s + y * width * s);
      }
    return cropped;
  };
}

/** Upscales the alpha channel on its own (bicubic): the models are trained on RGB only. */
async function upscaleAlpha(alpha: Uint8Array, width: number, height: number, scale: number): Promise<Uint8Array> {
  const { data } = await sharp(Buffer.from(alpha.buffer, alpha.byteOffset, alpha.byteLength), { raw: { width, height, channels: 1 } })
    .resize(width * scale, height * scale, { kernel: 'cubic', fit: 'fill' })
    // sharp turns a one-band picture into sRGB on output: keep the single band.
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (data.length !== width * scale * height * scale) throw new StudioError('INTERNAL', 'The alpha channel could not be upscaled.');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Runs an upscale job: the source picture through the model, tile by tile, into a PNG with provenance. */
export async function upscaleImage(modelDir: string, params: UpscaleParams, opts: UpscaleOptions): Promise<RunResult> {
  const t0 = performance.now();
  const { info, loaded, convertedMs } = await loadUpscaleModel(opts.sessions, modelDir, opts.cacheDir);
  if (params.scale !== undefined && params.scale !== info.scale) {
    throw new StudioError('INVALID_INPUT', `The model ${params.model} upscales ×${info.scale}, not ×${params.scale}. Pick ×${info.scale} or a model made for ×${params.scale}.`);
  }
  const loadMs = performance.now() - t0;
  const picture = await decodePicture(opts.sourcePath);
  const tile = info.fixedSize ? Math.min(info.fixedSize.width, info.fixedSize.height) : params.tile;
  const timings: TileTimings = { runMs: 0, tiles: 0 };
  const runner = sessionTileRunner(info, (feeds) => loaded.session.run(feeds), timings);
  const tTiles = performance.now();
  const rgb = await upscaleTiled(picture.planar, picture.width, picture.height, {
    tile,
    overlap: params.overlap,
    scale: info.scale,
    signal: opts.hooks.signal,
    onTile: (done, total) => opts.hooks.onProgress(done, total, `Tile ${done} of ${total}`),
  }, runner);
  const tilesMs = performance.now() - tTiles;
  const W = picture.width * info.scale;
  const H = picture.height * info.scale;
  let pixels: Uint8Array = rgb;
  let channels: 3 | 4 = 3;
  if (picture.alpha) {
    const alpha = await upscaleAlpha(picture.alpha, picture.width, picture.height, info.scale);
    pixels = new Uint8Array(W * H * 4);
    for (let i = 0; i < W * H; i++) {
      pixels[i * 4] = rgb[i * 3]!;
      pixels[i * 4 + 1] = rgb[i * 3 + 1]!;
      pixels[i * 4 + 2] = rgb[i * 3 + 2]!;
      pixels[i * 4 + 3] = alpha[i]!;
    }
    channels = 4;
  }

  // Provenance: a picture that carries generation parameters was made by a model; anything else
  // (a photograph) becomes a composite with trained algorithmic media.
  const generated = readParametersSafely(opts.sourcePath);
  const sourceType = generated ? TRAINED_ALGORITHMIC_MEDIA : COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA;
  const recorded = { ...params, scale: info.scale, tile, overlap: params.overlap, sourceWidth: picture.width, sourceHeight: picture.height };
  const prompt = generated?.params.prompt ?? '';
  const chunks = [
    textOrItxt('parameters', `${prompt}\nUpscale: ×${info.scale}, Upscaler: ${params.model}, Tile: ${tile}, Overlap: ${params.overlap}, Size: ${W}x${H}`),
    itxtChunk('atelier', JSON.stringify({ version: 1, kind: 'image', params: recorded })),
    itxtChunk(XMP_KEYWORD, buildXmp({ prompt, model: params.model }, sourceType)),
  ];
  const tOut = performance.now();
  const file = path.join(opts.outDir, `upscale-x${info.scale}.png`);
  const thumbnail = (opts.thumbnails ?? true) ? writeThumbnailFromPixels(pixels, W, H, channels, file.replace(/\.png$/, '.thumb.webp'), 256) : null;
  const [png, thumb] = await Promise.all([encodePngWithSharp(pixels, W, H, channels, chunks), thumbnail]);
  await writeFile(file, png);
  const outputs: OutputFile[] = [{ path: file, mime: 'image/png', role: 'image', width: W, height: H }];
  if (thumb) outputs.push({ path: thumb.path, mime: 'image/webp', role: 'thumbnail', width: thumb.width, height: thumb.height });
  return {
    outputs,
    seed: null,
    provider: loaded.provider,
    ...(loaded.providerNote ? { providerNote: loaded.providerNote } : {}),
    timings: { loadMs, tilesMs, sessionRunMs: timings.runMs, tiles: timings.tiles, outputMs: performance.now() - tOut, totalMs: performance.now() - t0, ...(convertedMs === undefined ? {} : { convertMs: convertedMs }) },
    meta: { upscale: { scale: info.scale, tile, overlap: params.overlap, tiles: timings.tiles, format: info.format, inputName: info.inputName, outputName: info.outputName, alpha: picture.alpha !== null, sourceWidth: picture.width, sourceHeight: picture.height, digitalSourceType: generated ? 'trainedAlgorithmicMedia' : 'compositeWithTrainedAlgorithmicMedia' } },
  };
}

function readParametersSafely(file: string): ReturnType<typeof readPngParameters> {
  if (!file.toLowerCase().endsWith('.png')) return null;
  try {
    return readPngParameters(file);
  } catch {
    return null;
  }
}
