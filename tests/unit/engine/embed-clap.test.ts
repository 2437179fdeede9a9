import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { oracleClapAudioEmbedding, oracleClapTextEmbedding, type PitchBand } from '../../../scripts/fixtures/clap';
import { audioWindows } from '../../../src/engine/embed/clap';
import { embed } from '../../../src/engine/embed/embed';
import { encodeWav } from '../../../src/engine/media/wav';
import { createEngineContext } from '../../../src/engine/runtime/context';
import { getFixtures, tempDir } from './helpers';

const ctx = createEngineContext({ provider: 'cpu' });

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** A sine tone as a WAV file, at any rate and channel count (stereo: the same tone on both sides). */
function toneWav(dir: string, name: string, hz: number, options: { rate?: number; seconds?: number; channels?: number; ultrasound?: number } = {}): string {
  const rate = options.rate ?? 32000;
  const channels = options.channels ?? 1;
  const frames = Math.round(rate * (options.seconds ?? 1));
  const samples = new Float32Array(frames * channels);
  for (let n = 0; n < frames; n++) for (let c = 0; c < channels; c++) samples[n * channels + c] = 0.3 * Math.sin((2 * Math.PI * hz * n) / rate) + 0.6 * Math.sin((2 * Math.PI * (options.ultrasound ?? 0) * n) / rate);
  const file = path.join(dir, `${name}.wav`);
  fs.writeFileSync(file, encodeWav({ samples, channels, sampleRate: rate, format: 'pcm16' }));
  return file;
}

describe('CLAP through transformers.js (oracle in the Xenova/clap-htsat-unfused layout)', () => {
  it('embeds music into its pitch band and words into the same space', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    const tones: [string, number, PitchBand, { rate?: number; channels?: number; ultrasound?: number }][] = [
      ['low', 110, 'low', { rate: 32000 }],
      ['mid', 880, 'mid', { rate: 44100, channels: 2 }],
      ['high', 5000, 'high', { rate: 48000 }],
      // A loud 36 kHz partial lies above the new Nyquist frequency after resampling 96 → 48 kHz: the filter
      // removes it; folded down it would be a loud 12 kHz tone, in the high band.
      ['low-with-ultrasound', 120, 'low', { rate: 96000, ultrasound: 36000 }],
    ];
    const result = await embed(ctx, f.embedClapOracle, [
      ...tones.map(([name, hz, , opts]) => ({ type: 'audio' as const, path: toneWav(dir, name, hz, opts) })),
      { type: 'text', text: 'a deep BASS drone' },
      { type: 'text', text: 'bright high whistle' },
    ]);
    expect(result.family).toBe('clap');
    expect(result.dim).toBe(4);
    tones.forEach(([name, , band], i) => {
      const expected = unit(oracleClapAudioEmbedding(band));
      result.vectors[i]!.forEach((x, j) => expect(x, `${name}[${j}]`).toBeCloseTo(expected[j]!, 2));
    });
    const lowText = result.vectors[4]!;
    const highText = result.vectors[5]!;
    unit(oracleClapTextEmbedding('a deep bass drone')).forEach((x, j) => expect(lowText[j]).toBeCloseTo(x, 4));
    // "low" words find the low tones; "high" words the high one.
    expect(dot(lowText, result.vectors[0]!)).toBeGreaterThan(0.99);
    expect(dot(lowText, result.vectors[2]!)).toBeLessThan(0);
    expect(dot(highText, result.vectors[2]!)).toBeGreaterThan(0.99);
  });

  it('judges a long piece by windows spread over all of it, the same way every time', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    // 30 s: a 10 s low hum, then 20 s of a high tone. Three windows (0, 10 and 20 s) see low, high, high;
    // one 10 s crop (the extractor's own way) would see only one of them.
    const rate = 16000;
    const samples = new Float32Array(rate * 30);
    for (let n = 0; n < samples.length; n++) samples[n] = 0.5 * Math.sin((2 * Math.PI * (n < rate * 10 ? 100 : 4000) * n) / rate);
    const file = path.join(dir, 'two-parts.wav');
    fs.writeFileSync(file, encodeWav({ samples, channels: 1, sampleRate: rate, format: 'float32' }));
    const [a, b] = (await embed(ctx, f.embedClapOracle, [{ type: 'audio', path: file }, { type: 'audio', path: file }])).vectors;
    expect(a).toEqual(b);
    const low = unit(oracleClapAudioEmbedding('low'));
    const high = unit(oracleClapAudioEmbedding('high'));
    const expected = unit(low.map((x, i) => (x + 2 * high[i]!) / 3));
    a!.forEach((x, j) => expect(x).toBeCloseTo(expected[j]!, 2));
  });

  it('spreads windows evenly from start to end, at most six', () => {
    expect(audioWindows(100, 100)).toEqual([0]);
    expect(audioWindows(250, 100)).toEqual([0, 75, 150]);
    expect(audioWindows(10_000, 100)).toEqual([0, 1980, 3960, 5940, 7920, 9900]);
  });

  it('refuses music with a picture model and pictures with a music model, and says why', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    const wav = toneWav(dir, 'tone', 440);
    await expect(embed(ctx, f.embedClipOracle, [{ type: 'audio', path: wav }])).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/music needs a CLAP model/) });
    await expect(embed(ctx, f.embedClapOracle, [{ type: 'image', path: wav }])).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/pictures need a CLIP model/) });
  });

  it('says which file is not music it can read', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    const notWav = path.join(dir, 'song.mp3');
    fs.writeFileSync(notWav, Buffer.from('ID3 not a wav'));
    await expect(embed(ctx, f.embedClapOracle, [{ type: 'audio', path: notWav }])).rejects.toMatchObject({ code: 'INVALID_INPUT', message: 'The music to index is not a WAV file.' });
    const empty = path.join(dir, 'empty.wav');
    fs.writeFileSync(empty, encodeWav({ samples: new Float32Array(0), channels: 1, sampleRate: 48000, format: 'pcm16' }));
    await expect(embed(ctx, f.embedClapOracle, [{ type: 'audio', path: empty }])).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/has no samples/) });
  });
});
