import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { StudioError } from '../../shared/errors';
import type { LoadedSession, SessionSource } from '../runtime/types';
import { convertTfjsModel } from './convert-tfjs';

/**
 * Super-resolution models as the engine sees them: one ONNX graph taking NCHW float RGB in 0–1
 * and returning the picture `scale` times larger, with any input and output names, fixed or
 * dynamic H×W, float32 or float16. Two kinds of folder give one:
 * - a TF.js layers model (model.json + shards: the bundled @upscalerjs models, or a user's), which
 *   is converted once into the engine's cache and reused while its files are unchanged;
 * - a Real-ESRGAN-style folder with exactly one .onnx file.
 * What the graph expects is read from its metadata, and the scale is found by one probe run.
 */

export interface UpscaleModelInfo {
  file: string;
  inputName: string;
  outputName: string;
  inputType: 'float32' | 'float16';
  /** Set when the model only takes one H×W (then tiles are that size, padded at the borders). */
  fixedSize: { width: number; height: number } | null;
  scale: number;
  /** 'tfjs' when converted from a TF.js layers model. */
  format: 'onnx' | 'tfjs';
}

function refuse(dir: string, reason: string): never {
  throw new StudioError('MODEL_INVALID', `${dir} is not a super-resolution model Atelier can use: ${reason}.`);
}

/** The ONNX file of a Real-ESRGAN-style folder (or a file given directly). */
export function findOnnxFile(dirOrFile: string): string {
  if (!existsSync(dirOrFile)) refuse(dirOrFile, 'it does not exist');
  if (statSync(dirOrFile).isFile()) {
    if (!dirOrFile.endsWith('.onnx')) refuse(dirOrFile, 'it is not an .onnx file');
    return dirOrFile;
  }
  const onnx = readdirSync(dirOrFile).filter((f) => f.endsWith('.onnx'));
  if (onnx.length === 0) refuse(dirOrFile, 'the folder has no .onnx file and no model.json (TF.js)');
  if (onnx.length > 1) refuse(dirOrFile, `the folder has ${onnx.length} .onnx files (${onnx.slice(0, 4).join(', ')}); an upscale model folder has exactly one`);
  return path.join(dirOrFile, onnx[0]!);
}

/** A fingerprint of a TF.js folder's files (names, sizes, mtimes): the cache key of its conversion. */
function tfjsFingerprint(dir: string): string {
  const hash = createHash('sha256').update(path.resolve(dir));
  for (const f of readdirSync(dir).sort()) {
    const st = statSync(path.join(dir, f));
    hash.update(`${f}\0${st.size}\0${st.mtimeMs}\0`);
  }
  return hash.digest('hex').slice(0, 24);
}

/**
 * The ONNX file for a model folder: the .onnx of an ONNX folder, or the cached conversion of a
 * TF.js one (converted now when missing; written to a temp name and renamed, so a crash never
 * leaves half a file under the final name).
 */
export async function resolveUpscaleFile(dir: string, cacheDir: string): Promise<{ file: string; format: 'onnx' | 'tfjs'; convertedMs?: number }> {
  if (existsSync(path.join(dir, 'model.json'))) {
    // Named after the folder's last three parts (esrgan-thick-models-x4-…) so a person can tell the files apart.
    const label = path.resolve(dir).split(path.sep).filter(Boolean).slice(-3).join('-').replace(/[^A-Za-z0-9._-]+/g, '_');
    const file = path.join(cacheDir, `${label}-${tfjsFingerprint(dir)}.onnx`);
    if (existsSync(file)) return { file, format: 'tfjs' };
    const t0 = performance.now();
    const converted = await convertTfjsModel(dir);
    await fs.mkdir(cacheDir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(temp, converted.onnx);
    await fs.rename(temp, file);
    return { file, format: 'tfjs', convertedMs: performance.now() - t0 };
  }
  return { file: findOnnxFile(dir), format: 'onnx' };
}

/** IEEE half → float (for fp16 outputs). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float → IEEE half, round to nearest even (for fp16 inputs). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >> 16) & 0x8000;
  const exp = ((x >> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    const half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rem > mid || (rem === mid && half & 1) ? half + 1 : half);
  }
  const half = (exp << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  return sign | (rem > 0x1000 || (rem === 0x1000 && half & 1) ? half + 1 : half);
}

export function toInputTensor(data: Float32Array, width: number, height: number, type: 'float32' | 'float16'): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', data, [1, 3, height, width]);
  const half = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) half[i] = floatToHalf(data[i]!);
  return new ort.Tensor('float16', half, [1, 3, height, width]);
}

export function fromOutputTensor(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    const src = t.data as Uint16Array;
    const out = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]!);
    return out;
  }
  throw new StudioError('MODEL_INVALID', `The upscale model returns ${t.type} values; expected float32 or float16.`);
}

/**
 * Reads what a loaded session expects and probes its scale with one small run. Refuses, with the
 * reason, a graph that is not image → larger image.
 */
export async function describeUpscaleSession(loaded: LoadedSession, format: 'onnx' | 'tfjs'): Promise<UpscaleModelInfo> {
  const { session, path: file } = loaded;
  const inputs = session.inputMetadata;
  const outputs = session.outputMetadata;
  if (inputs.length !== 1) refuse(file, `it has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); a super-resolution model has one image input`);
  if (outputs.length < 1) refuse(file, 'it has no output');
  const input = inputs[0]!;
  const output = outputs[0]!;
  if (!input.isTensor) refuse(file, `its input ${input.name} is not a tensor`);
  if (input.type !== 'float32' && input.type !== 'float16') refuse(file, `its input ${input.name} is ${input.type}, not float32 or float16 pixels`);
  const shape = input.shape;
  if (shape.length !== 4) refuse(file, `its input ${input.name} has ${shape.length} dimensions; an NCHW picture has 4`);
  if (shape[1] !== 3) refuse(file, `its input ${input.name} has ${String(shape[1])} channels in dimension 1; expected 3 (NCHW RGB)`);
  const fixedH = typeof shape[2] === 'number' && shape[2] > 0 ? shape[2] : null;
  const fixedW = typeof shape[3] === 'number' && shape[3] > 0 ? shape[3] : null;
  const fixedSize = fixedH !== null && fixedW !== null ? { width: fixedW, height: fixedH } : null;
  const probe = fixedSize ?? { width: 16, height: 16 };
  const data = new Float32Array(3 * probe.width * probe.height);
  for (let i = 0; i < data.length; i++) data[i] = (i % 17) / 16;
  let result: ort.InferenceSession.OnnxValueMapType;
  try {
    result = await session.run({ [input.name]: toInputTensor(data, probe.width, probe.height, input.type) });
  } catch (error) {
    refuse(file, `a probe run on a ${probe.width}×${probe.height} picture failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  const out = result[output.name] as ort.Tensor | undefined;
  if (!out) refuse(file, 'the probe run returned no output');
  const dims = out.dims;
  if (dims.length !== 4 || dims[1] !== 3) refuse(file, `its output has shape [${dims.join(', ')}]; expected [1, 3, H·s, W·s]`);
  const sy = dims[2]! / probe.height;
  const sx = dims[3]! / probe.width;
  if (sx !== sy || !Number.isInteger(sx)) refuse(file, `its output is ${dims[3]}×${dims[2]} for a ${probe.width}×${probe.height} input: not a whole-number enlargement`);
  if (sx < 2) refuse(file, sx === 1 ? 'it returns a picture of the same size (a restoration or denoising model, not an upscaler)' : 'it makes pictures smaller');
  if (sx > 16) refuse(file, `it enlarges ×${sx}, beyond what Atelier supports (×16)`);
  return { file, inputName: input.name, outputName: output.name, inputType: input.type, fixedSize, scale: sx, format };
}

/** Loads (through the runtime's provider chain and cache) and describes the model in `dir`. */
export async function loadUpscaleModel(sessions: SessionSource, dir: string, cacheDir: string): Promise<{ info: UpscaleModelInfo; loaded: LoadedSession; convertedMs?: number }> {
  const resolved = await resolveUpscaleFile(dir, cacheDir);
  const loaded = await sessions.load(resolved.file);
  const info = await describeUpscaleSession(loaded, resolved.format);
  return { info, loaded, ...(resolved.convertedMs === undefined ? {} : { convertedMs: resolved.convertedMs }) };
}
