/**
 * Audio for models that expect one sample rate (CLAP wants 48 kHz mono): mix channels down and
 * resample with a windowed-sinc filter. Downsampling lowers the filter's cutoff to the new Nyquist
 * frequency, so high partials fold into nothing rather than into false low tones.
 */

/** Half the filter's length in zero crossings: ±16 gives a stopband below −60 dB with the Blackman window. */
const ZERO_CROSSINGS = 16;

/** Interleaved frames → one channel, the mean of the channels (ffmpeg's `-ac 1`). */
export function mixToMono(samples: Float32Array, channels: number): Float32Array {
  if (channels === 1) return samples;
  const frames = Math.floor(samples.length / channels);
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c]!;
    out[f] = sum / channels;
  }
  return out;
}

/** Kernel samples per input sample: the kernel is read from a table, linearly interpolated. */
const TABLE_RESOLUTION = 512;

/** cutoff · sinc(cutoff · d) · Blackman(d / half), for d = i / TABLE_RESOLUTION, i = 0 … half · TABLE_RESOLUTION (+1 guard). */
function kernelTable(cutoff: number, half: number): Float64Array {
  const size = half * TABLE_RESOLUTION + 2;
  const table = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const d = i / TABLE_RESOLUTION;
    if (d >= half) break;
    const x = cutoff * d;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const t = Math.PI * (d / half + 1);
    table[i] = cutoff * sinc * (0.42 - 0.5 * Math.cos(t) + 0.08 * Math.cos(2 * t));
  }
  return table;
}

/**
 * `input` at `from` Hz → the same sound at `to` Hz (band-limited: each output sample is a
 * Blackman-windowed sinc interpolation of its neighbours). Same rate → the input itself.
 */
export function resample(input: Float32Array, from: number, to: number): Float32Array {
  if (!(from > 0) || !(to > 0)) throw new RangeError(`cannot resample from ${from} Hz to ${to} Hz`);
  if (from === to || input.length === 0) return input;
  const step = from / to;
  // Cutoff relative to the input's Nyquist frequency: below 1 when downsampling.
  const cutoff = Math.min(1, to / from);
  const half = Math.ceil(ZERO_CROSSINGS / cutoff);
  const table = kernelTable(cutoff, half);
  const length = Math.max(1, Math.round((input.length * to) / from));
  const out = new Float32Array(length);
  for (let n = 0; n < length; n++) {
    const t = n * step;
    const centre = Math.floor(t);
    let sum = 0;
    let weights = 0;
    for (let k = centre - half + 1; k <= centre + half; k++) {
      const pos = Math.abs(t - k) * TABLE_RESOLUTION;
      const i = Math.floor(pos);
      const w = table[i]! + (table[i + 1]! - table[i]!) * (pos - i);
      weights += w;
      if (k >= 0 && k < input.length) sum += input[k]! * w;
    }
    // Normalising by the kernel's sum keeps a constant signal constant (no ripple from truncation).
    out[n] = weights !== 0 ? sum / weights : 0;
  }
  return out;
}
