import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { BUNDLED_UPSCALERS, type BundledUpscaler } from '../../../../src/shared/upscale';
import { bundledUpscalerDir } from '../../../../src/main/upscale/bundled';
import { convertTfjsModel, CONVERTED_INPUT, CONVERTED_OUTPUT } from '../../../../src/engine/upscale/convert-tfjs';

export const PHOTO = path.join(__dirname, '../../../fixtures/photos/coffee.png');

export function bundledDir(model: BundledUpscaler): string {
  const dir = bundledUpscalerDir(model, path.join(__dirname, '../../../..'));
  if (!dir) throw new Error(`${model.packageName} is not installed (npm ci)`);
  return dir;
}

export function bundled(id: string): BundledUpscaler {
  const m = BUNDLED_UPSCALERS.find((b) => b.id === id);
  if (!m) throw new Error(`no bundled model ${id}`);
  return m;
}

/** Converts a bundled model in memory and opens it on onnxruntime's CPU provider. */
export async function convertedSession(model: BundledUpscaler, threads = 2): Promise<{ session: ort.InferenceSession; scale: number; valueRange: number }> {
  const converted = await convertTfjsModel(bundledDir(model));
  const session = await ort.InferenceSession.create(Buffer.from(converted.onnx), { executionProviders: ['cpu'], intraOpNumThreads: threads });
  return { session, scale: converted.scale, valueRange: converted.valueRange };
}

/** Runs a converted session on planar RGB 0–1. */
export async function runPlanar(session: ort.InferenceSession, planar: Float32Array, width: number, height: number): Promise<Float32Array> {
  const out = await session.run({ [CONVERTED_INPUT]: new ort.Tensor('float32', planar, [1, 3, height, width]) });
  return out[CONVERTED_OUTPUT]!.data as Float32Array;
}

/** Interleaved RGB bytes of a picture region (sharp). */
export async function rgbOf(file: string | Buffer, region?: { left: number; top: number; width: number; height: number }, raw?: { width: number; height: number }): Promise<{ data: Uint8Array; width: number; height: number }> {
  let img = raw ? sharp(file, { raw: { ...raw, channels: 3 } }) : sharp(file);
  if (region) img = img.extract(region);
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

export function toPlanar(rgb: Uint8Array, width: number, height: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = rgb[i * 3 + c]! / 255;
  return out;
}

export function planarToNhwc(planar: Float32Array, width: number, height: number, factor = 1): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = planar[c * plane + i]! * factor;
  return out;
}
