/**
 * WAV (RIFF/WAVE) writer: 16-bit PCM or 32-bit IEEE float (WAVE_FORMAT_IEEE_FLOAT with the fact
 * chunk the spec asks for on non-PCM data), with a LIST/INFO chunk carrying provenance so that
 * any audio tool shows where the file came from.
 */

export type WavFormat = 'pcm16' | 'float32';

export interface WavInfo {
  /** INAM */
  title?: string;
  /** ICMT: prompt, model, parameters and the AI-generation statement. */
  comment?: string;
  /** ISFT */
  software?: string;
  /** ICRD, e.g. 2026-11-26 */
  date?: string;
  /** IART */
  artist?: string;
}

export interface WavInput {
  /** Interleaved samples in [-1, 1] (frame-major: L R L R … for stereo). */
  samples: Float32Array;
  channels: number;
  sampleRate: number;
  format: WavFormat;
  info?: WavInfo;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;

function chunk(id: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 4, 'ascii');
  header.writeUInt32LE(body.length, 4);
  // RIFF chunks are word aligned: odd-sized bodies get a pad byte not counted in the size.
  return Buffer.concat(body.length % 2 ? [header, body, Buffer.alloc(1)] : [header, body]);
}

function infoList(info: WavInfo): Buffer | null {
  const fields: [string, string | undefined][] = [
    ['INAM', info.title],
    ['IART', info.artist],
    ['ICMT', info.comment],
    ['ISFT', info.software],
    ['ICRD', info.date],
  ];
  const parts = fields
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1].length > 0)
    .map(([id, text]) => chunk(id, Buffer.concat([Buffer.from(text, 'utf8'), Buffer.alloc(1)])));
  if (parts.length === 0) return null;
  return chunk('LIST', Buffer.concat([Buffer.from('INFO', 'ascii'), ...parts]));
}

export function encodeWav({ samples, channels, sampleRate, format, info }: WavInput): Buffer {
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`channels must be a positive integer, got ${channels}`);
  if (samples.length % channels !== 0) throw new RangeError(`${samples.length} samples do not divide into ${channels} channels`);
  const frames = samples.length / channels;
  const bytesPerSample = format === 'pcm16' ? 2 : 4;

  const fmt = Buffer.alloc(format === 'pcm16' ? 16 : 18);
  fmt.writeUInt16LE(format === 'pcm16' ? WAVE_FORMAT_PCM : WAVE_FORMAT_IEEE_FLOAT, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(sampleRate, 4);
  fmt.writeUInt32LE(sampleRate * channels * bytesPerSample, 8);
  fmt.writeUInt16LE(channels * bytesPerSample, 12);
  fmt.writeUInt16LE(bytesPerSample * 8, 14);
  // fmt of a non-PCM format carries cbSize (0 extra bytes).
  if (format === 'float32') fmt.writeUInt16LE(0, 16);

  const data = Buffer.alloc(samples.length * bytesPerSample);
  if (format === 'pcm16') {
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, Number.isFinite(samples[i]!) ? samples[i]! : 0));
      data.writeInt16LE(Math.round(s < 0 ? s * 32768 : s * 32767), i * 2);
    }
  } else {
    for (let i = 0; i < samples.length; i++) data.writeFloatLE(Number.isFinite(samples[i]!) ? samples[i]! : 0, i * 4);
  }

  const chunks = [chunk('fmt ', fmt)];
  if (format === 'float32') {
    const fact = Buffer.alloc(4);
    fact.writeUInt32LE(frames, 0);
    chunks.push(chunk('fact', fact));
  }
  const list = info ? infoList(info) : null;
  if (list) chunks.push(list);
  chunks.push(chunk('data', data));

  const body = Buffer.concat([Buffer.from('WAVE', 'ascii'), ...chunks]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 4, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

export interface Peaks {
  version: 1;
  sampleRate: number;
  channels: number;
  frames: number;
  /** [min, max] per bucket, over all channels, rounded to 1e-4. */
  peaks: [number, number][];
}

/** Min/max pairs for drawing a waveform without decoding the audio (200 buckets by default). */
export function computePeaks(samples: Float32Array, channels: number, sampleRate: number, buckets = 200): Peaks {
  const frames = Math.floor(samples.length / channels);
  const count = Math.max(1, Math.min(buckets, frames));
  const peaks: [number, number][] = [];
  const round = (v: number) => Math.round(v * 10_000) / 10_000;
  for (let b = 0; b < count; b++) {
    const start = Math.floor((b * frames) / count);
    const end = Math.max(start + 1, Math.floor(((b + 1) * frames) / count));
    let min = 0;
    let max = 0;
    for (let f = start; f < end && f < frames; f++) {
      for (let c = 0; c < channels; c++) {
        const v = samples[f * channels + c]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    peaks.push([round(min), round(max)]);
  }
  return { version: 1, sampleRate, channels, frames, peaks };
}
