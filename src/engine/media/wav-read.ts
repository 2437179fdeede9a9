import { readFile } from 'node:fs/promises';
import { StudioError } from '../../shared/errors';
import type { WavFormat } from './wav';

/**
 * WAV (RIFF/WAVE) reader for what the library holds: 16-bit PCM and 32-bit IEEE float, also
 * inside WAVE_FORMAT_EXTENSIBLE, any channel count. Unknown chunks (LIST, fact, …) are skipped;
 * a data chunk whose size runs past the end (a stream that never patched its header) is read up
 * to the end of the file, in whole frames.
 */

export interface DecodedWav {
  /** Interleaved samples in [-1, 1] (frame-major). */
  samples: Float32Array;
  channels: number;
  sampleRate: number;
  format: WavFormat;
  /** Sample frames (samples.length / channels). */
  frames: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** `subject` names the audio in messages: what it was read for ("The audio to extend"). */
export function decodeWav(buf: Buffer, subject = 'The audio to extend'): DecodedWav {
  const unreadable = (what: string): StudioError => new StudioError('INVALID_INPUT', `${subject} ${what}.`);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw unreadable('is not a WAV file');
  let pos = 12;
  let fmt: { format: WavFormat; channels: number; sampleRate: number; blockAlign: number } | null = null;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw unreadable('has a broken fmt chunk');
      let tag = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const sampleRate = buf.readUInt32LE(body + 4);
      const blockAlign = buf.readUInt16LE(body + 12);
      const bits = buf.readUInt16LE(body + 14);
      // WAVE_FORMAT_EXTENSIBLE: the real format tag is the first 2 bytes of the SubFormat GUID.
      if (tag === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= buf.length) tag = buf.readUInt16LE(body + 24);
      const format: WavFormat | null = tag === WAVE_FORMAT_PCM && bits === 16 ? 'pcm16' : tag === WAVE_FORMAT_IEEE_FLOAT && bits === 32 ? 'float32' : null;
      if (!format) throw unreadable(`is ${bits}-bit audio of format ${tag}; only 16-bit PCM and 32-bit float WAV can be read`);
      if (channels < 1 || sampleRate < 1 || blockAlign !== channels * (bits / 8)) throw unreadable('has an inconsistent fmt chunk');
      fmt = { format, channels, sampleRate, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw unreadable('has its data before the fmt chunk');
      const available = Math.min(size, buf.length - body);
      const frames = Math.floor(available / fmt.blockAlign);
      const count = frames * fmt.channels;
      const samples = new Float32Array(count);
      // The inverse of encodeWav (negative / 32768, positive / 32767): our own files round-trip exactly.
      if (fmt.format === 'pcm16') {
        for (let i = 0; i < count; i++) {
          const k = buf.readInt16LE(body + i * 2);
          samples[i] = k < 0 ? k / 32768 : k / 32767;
        }
      } else {
        for (let i = 0; i < count; i++) samples[i] = buf.readFloatLE(body + i * 4);
      }
      return { samples, channels: fmt.channels, sampleRate: fmt.sampleRate, format: fmt.format, frames };
    }
    pos = body + size + (size % 2);
  }
  throw unreadable(fmt ? 'has no data chunk' : 'has no fmt chunk');
}

export async function readWav(file: string, subject = 'The audio to extend'): Promise<DecodedWav> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch {
    throw new StudioError('NOT_FOUND', `${subject} (${file}) could not be read.`);
  }
  return decodeWav(buf, subject);
}
