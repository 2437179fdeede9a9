/**
 * Just enough WAV for the Music view: read PCM16 / PCM24 / PCM32 / float32 files into float
 * samples (to draw a waveform or cut a loop) and write PCM16 files with a LIST/INFO chunk, so an
 * exported clip says what it is.
 */
export interface DecodedAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved, −1…1. */
  samples: Float32Array;
  frames: number;
}

export interface WavInfo {
  /** INAM: the title (the prompt). */
  title?: string;
  /** ICMT: a comment. */
  comment?: string;
  /** ISFT: the software. */
  software?: string;
}

function fourcc(view: DataView, offset: number): string {
  return String.fromCharCode(view.getUint8(offset), view.getUint8(offset + 1), view.getUint8(offset + 2), view.getUint8(offset + 3));
}

export function decodeWav(buffer: ArrayBuffer): DecodedAudio {
  const view = new DataView(buffer);
  if (buffer.byteLength < 12 || fourcc(view, 0) !== 'RIFF' || fourcc(view, 8) !== 'WAVE') throw new Error('Not a WAV file.');
  let format = 0;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  let dataOffset = -1;
  let dataBytes = 0;
  let offset = 12;
  while (offset + 8 <= buffer.byteLength) {
    const id = fourcc(view, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
      // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID
      if (format === 0xfffe && size >= 26) format = view.getUint16(body + 24, true);
    } else if (id === 'data') {
      dataOffset = body;
      dataBytes = Math.min(size, buffer.byteLength - body);
      break;
    }
    offset = body + size + (size % 2);
  }
  if (dataOffset < 0 || channels === 0 || sampleRate === 0) throw new Error('The WAV file has no fmt or data chunk.');
  const bytesPer = bits / 8;
  const count = Math.floor(dataBytes / bytesPer);
  const samples = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const at = dataOffset + i * bytesPer;
    if (format === 3 && bits === 32) samples[i] = view.getFloat32(at, true);
    else if (format === 1 && bits === 16) samples[i] = view.getInt16(at, true) / 32768;
    else if (format === 1 && bits === 24) {
      const value = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16);
      samples[i] = value / 8388608;
    } else if (format === 1 && bits === 32) samples[i] = view.getInt32(at, true) / 2147483648;
    else if (format === 1 && bits === 8) samples[i] = (view.getUint8(at) - 128) / 128;
    else throw new Error(`Unsupported WAV encoding (format ${format}, ${bits} bits).`);
  }
  return { sampleRate, channels, samples, frames: Math.floor(count / channels) };
}

/** Frames [startFrame, endFrame) of interleaved audio. */
export function sliceFrames(audio: DecodedAudio, startFrame: number, endFrame: number): DecodedAudio {
  const start = Math.max(0, Math.min(audio.frames, Math.floor(startFrame)));
  const end = Math.max(start, Math.min(audio.frames, Math.floor(endFrame)));
  return { ...audio, samples: audio.samples.slice(start * audio.channels, end * audio.channels), frames: end - start };
}

function infoChunk(info: WavInfo): Uint8Array<ArrayBuffer> | null {
  const entries: [string, string][] = [];
  if (info.title) entries.push(['INAM', info.title]);
  if (info.comment) entries.push(['ICMT', info.comment]);
  if (info.software) entries.push(['ISFT', info.software]);
  if (entries.length === 0) return null;
  const encoder = new TextEncoder();
  const encoded = entries.map(([id, text]) => {
    const bytes = encoder.encode(text.slice(0, 1000));
    const size = bytes.length + 1; // NUL-terminated
    return { id, bytes, size, padded: size + (size % 2) };
  });
  const total = 4 + encoded.reduce((sum, entry) => sum + 8 + entry.padded, 0);
  const out = new Uint8Array(new ArrayBuffer(8 + total));
  const view = new DataView(out.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = text.charCodeAt(i);
  };
  ascii(0, 'LIST');
  view.setUint32(4, total, true);
  ascii(8, 'INFO');
  let at = 12;
  for (const entry of encoded) {
    ascii(at, entry.id);
    view.setUint32(at + 4, entry.size, true);
    out.set(entry.bytes, at + 8);
    at += 8 + entry.padded;
  }
  return out;
}

/** A 16-bit PCM WAV file of the given audio, with an optional LIST/INFO chunk before the data. */
export function encodeWavPcm16(audio: DecodedAudio, info: WavInfo = {}): Blob {
  const list = infoChunk(info);
  const dataBytes = audio.frames * audio.channels * 2;
  const header = new ArrayBuffer(36);
  const view = new DataView(header);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < 4; i++) view.setUint8(at + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 4 + 24 + (list?.length ?? 0) + 8 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, audio.channels, true);
  view.setUint32(24, audio.sampleRate, true);
  view.setUint32(28, audio.sampleRate * audio.channels * 2, true);
  view.setUint16(32, audio.channels * 2, true);
  view.setUint16(34, 16, true);
  const dataHeader = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 4; i++) dataHeader.setUint8(i, 'data'.charCodeAt(i));
  dataHeader.setUint32(4, dataBytes, true);
  const pcm = new Int16Array(audio.frames * audio.channels);
  for (let i = 0; i < pcm.length; i++) {
    const v = Math.max(-1, Math.min(1, audio.samples[i] ?? 0));
    pcm[i] = v < 0 ? Math.round(v * 32768) : Math.round(v * 32767);
  }
  const parts: BlobPart[] = [header];
  if (list) parts.push(list);
  parts.push(dataHeader.buffer, pcm.buffer);
  return new Blob(parts, { type: 'audio/wav' });
}

/** Min/max per bucket, the same shape as the engine's peaks file. */
export function peaksOf(audio: DecodedAudio, buckets = 400): [number, number][] {
  const count = Math.max(1, Math.min(buckets, audio.frames));
  const peaks: [number, number][] = [];
  for (let b = 0; b < count; b++) {
    const start = Math.floor((b * audio.frames) / count);
    const end = Math.max(start + 1, Math.floor(((b + 1) * audio.frames) / count));
    let min = 0;
    let max = 0;
    for (let i = start * audio.channels; i < end * audio.channels && i < audio.samples.length; i++) {
      const v = audio.samples[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    peaks.push([min, max]);
  }
  return peaks;
}
