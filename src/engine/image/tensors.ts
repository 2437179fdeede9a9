import * as ort from 'onnxruntime-node';

/** IEEE 754 half ↔ single conversion (round to nearest even), for fp16 model exports. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  e = h >>> 10;
  return sign | h;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export type FloatType = 'float32' | 'float16';

/** A float tensor of the type the session expects. */
export function floatTensor(type: FloatType, data: Float32Array, dims: readonly number[]): ort.Tensor {
  if (type === 'float16') {
    const h = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) h[i] = floatToHalf(data[i]);
    return new ort.Tensor('float16', h, dims);
  }
  return new ort.Tensor('float32', data, dims);
}

/** Read any float tensor (float32 or float16) as float32. */
export function toFloat32(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    const src = t.data as ArrayLike<number>;
    const out = new Float32Array(src.length);
    // Uint16Array (no Float16Array in this runtime) holds raw half bits; a Float16Array holds values.
    const raw = src instanceof Uint16Array;
    for (let i = 0; i < src.length; i++) out[i] = raw ? halfToFloat(src[i]) : src[i];
    return out;
  }
  throw new Error(`Expected a float tensor, got ${t.type}.`);
}

export interface InputInfo {
  name: string;
  type: string;
  shape: readonly (number | string)[];
}

export function inputInfo(session: ort.InferenceSession): Map<string, InputInfo> {
  const out = new Map<string, InputInfo>();
  for (const m of session.inputMetadata) {
    out.set(m.name, m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'unknown', shape: [] });
  }
  return out;
}

export function floatTypeOf(info: InputInfo | undefined): FloatType {
  return info?.type === 'float16' ? 'float16' : 'float32';
}
