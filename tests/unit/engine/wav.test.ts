import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computePeaks, encodeWav } from '../../../src/engine/media/wav';
import { tempDir } from './helpers';

interface ParsedWav {
  format: number;
  channels: number;
  sampleRate: number;
  byteRate: number;
  blockAlign: number;
  bitsPerSample: number;
  factFrames?: number;
  info: Record<string, string>;
  data: Buffer;
  chunkOrder: string[];
}

/** A deliberately independent, strict RIFF reader: sizes must add up exactly. */
function parseWav(buf: Buffer): ParsedWav {
  expect(buf.toString('ascii', 0, 4)).toBe('RIFF');
  expect(buf.readUInt32LE(4)).toBe(buf.length - 8);
  expect(buf.toString('ascii', 8, 12)).toBe('WAVE');
  const out: Partial<ParsedWav> & { info: Record<string, string>; chunkOrder: string[] } = { info: {}, chunkOrder: [] };
  let pos = 12;
  while (pos < buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = buf.subarray(pos + 8, pos + 8 + size);
    expect(body.length).toBe(size);
    out.chunkOrder.push(id);
    if (id === 'fmt ') {
      out.format = body.readUInt16LE(0);
      out.channels = body.readUInt16LE(2);
      out.sampleRate = body.readUInt32LE(4);
      out.byteRate = body.readUInt32LE(8);
      out.blockAlign = body.readUInt16LE(12);
      out.bitsPerSample = body.readUInt16LE(14);
    } else if (id === 'fact') {
      out.factFrames = body.readUInt32LE(0);
    } else if (id === 'LIST') {
      expect(body.toString('ascii', 0, 4)).toBe('INFO');
      let p = 4;
      while (p < body.length) {
        const sub = body.toString('ascii', p, p + 4);
        const len = body.readUInt32LE(p + 4);
        const text = body.subarray(p + 8, p + 8 + len);
        expect(text[len - 1]).toBe(0);
        out.info[sub] = text.subarray(0, len - 1).toString('utf8');
        p += 8 + len + (len % 2);
      }
    } else if (id === 'data') {
      out.data = body;
    }
    pos += 8 + size + (size % 2);
  }
  expect(pos).toBe(buf.length);
  return out as ParsedWav;
}

const info = { title: 'Rain on tin', comment: 'Prompt: rain\nModel: test\nAI-generated with Atelier', software: 'Atelier', date: '2026-11-26' };

describe('WAV writer', () => {
  it('writes 16-bit PCM with clamping, rounding and INFO provenance', () => {
    const samples = new Float32Array([0, 1, -1, 0.5, 2, -2]);
    const wav = parseWav(encodeWav({ samples, channels: 2, sampleRate: 32000, format: 'pcm16', info }));
    expect(wav).toMatchObject({ format: 1, channels: 2, sampleRate: 32000, byteRate: 32000 * 4, blockAlign: 4, bitsPerSample: 16 });
    expect(wav.factFrames).toBeUndefined();
    expect(wav.chunkOrder).toEqual(['fmt ', 'LIST', 'data']);
    expect(Array.from({ length: 6 }, (_, i) => wav.data.readInt16LE(i * 2))).toEqual([0, 32767, -32768, 16384, 32767, -32768]);
    expect(wav.info).toEqual({ INAM: 'Rain on tin', ICMT: info.comment, ISFT: 'Atelier', ICRD: '2026-11-26' });
  });

  it('writes 32-bit float as WAVE_FORMAT_IEEE_FLOAT with a fact chunk', () => {
    const samples = new Float32Array([0.25, -0.75, 0.125]);
    const wav = parseWav(encodeWav({ samples, channels: 1, sampleRate: 16000, format: 'float32', info: { title: 'odd' } }));
    expect(wav).toMatchObject({ format: 3, channels: 1, sampleRate: 16000, byteRate: 64000, blockAlign: 4, bitsPerSample: 32, factFrames: 3 });
    expect(wav.chunkOrder).toEqual(['fmt ', 'fact', 'LIST', 'data']);
    expect([0, 1, 2].map((i) => wav.data.readFloatLE(i * 4))).toEqual([0.25, -0.75, 0.125]);
  });

  // sox, ffprobe and exiftool are required by `npm test` (scripts/check-system.cjs says how to install them).
  it('is readable by soxi and ffprobe', () => {
    const dir = tempDir();
    for (const format of ['pcm16', 'float32'] as const) {
      const file = path.join(dir, `${format}.wav`);
      const samples = new Float32Array(16000 * 2).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * Math.floor(i / 2)) / 16000));
      writeFileSync(file, encodeWav({ samples, channels: 2, sampleRate: 16000, format, info }));
      expect(execFileSync('soxi', ['-r', file]).toString().trim()).toBe('16000');
      expect(execFileSync('soxi', ['-c', file]).toString().trim()).toBe('2');
      expect(execFileSync('soxi', ['-s', file]).toString().trim()).toBe('16000');
      expect(execFileSync('soxi', ['-e', file]).toString()).toMatch(format === 'pcm16' ? /Signed Integer PCM/ : /Floating Point PCM/);
      // sox ignores LIST/INFO; ffprobe and exiftool read it, so check the comment there.
      const probe = execFileSync('ffprobe', ['-hide_banner', '-show_format', file], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      expect(probe).toMatch(/TAG:comment=Prompt: rain/);
      expect(probe).toMatch(/TAG:title=Rain on tin/);
    }
  });

  it('computes min/max peaks per bucket over all channels', () => {
    const samples = new Float32Array(400 * 2);
    samples[0] = -0.5; // frame 0, left
    samples[799] = 0.9; // last frame, right
    const peaks = computePeaks(samples, 2, 8000, 200);
    expect(peaks).toMatchObject({ version: 1, channels: 2, frames: 400, sampleRate: 8000 });
    expect(peaks.peaks).toHaveLength(200);
    expect(peaks.peaks[0]).toEqual([-0.5, 0]);
    expect(peaks.peaks[199]).toEqual([0, 0.9]);
  });
});
