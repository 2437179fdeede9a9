import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { framesFor, generateMusic } from '../../../src/engine/music/generate';
import { createEngineContext } from '../../../src/engine/runtime/context';
import { inspectModelDir } from '../../../src/engine/runtime/layout';
import { StudioError } from '../../../src/shared/errors';
import { MusicParams } from '../../../src/shared/params';
import { getFixtures, recordingHooks, tempDir } from './helpers';

interface Oracle {
  frequency_hz: number;
  sampling_rate: number;
  hop_length: number;
  frame_rate: number;
  num_codebooks: number;
}

function readOracle(dir: string): Oracle {
  return JSON.parse(readFileSync(path.join(dir, 'oracle.json'), 'utf8')) as Oracle;
}

/** Mono 16-bit samples of a canonical WAV written by our writer (fmt, LIST, data). */
function readPcm16(file: string): { sampleRate: number; channels: number; samples: Float64Array } {
  const buf = readFileSync(file);
  let pos = 12;
  let sampleRate = 0;
  let channels = 0;
  while (pos < buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(pos + 10);
      sampleRate = buf.readUInt32LE(pos + 12);
    }
    if (id === 'data') {
      const samples = new Float64Array(size / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(pos + 8 + i * 2) / 32768;
      return { sampleRate, channels, samples };
    }
    pos += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}

/** Frequency of the largest DFT bin (plain DFT over a window; small inputs only), refined by parabolic interpolation. */
function dominantFrequency(samples: Float64Array, sampleRate: number): number {
  const n = Math.min(samples.length, 4096);
  const mags = new Float64Array(n / 2);
  for (let k = 1; k < n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / (n - 1));
      const a = (2 * Math.PI * k * t) / n;
      re += samples[t]! * w * Math.cos(a);
      im -= samples[t]! * w * Math.sin(a);
    }
    mags[k] = Math.hypot(re, im);
  }
  let best = 1;
  for (let k = 2; k < n / 2 - 1; k++) if (mags[k]! > mags[best]!) best = k;
  const [a, b, c] = [mags[best - 1]!, mags[best]!, mags[best + 1]!];
  const offset = (0.5 * (a - c)) / (a - 2 * b + c);
  return ((best + offset) * sampleRate) / n;
}

const ctx = createEngineContext({ provider: 'cpu' });

describe('music generation', () => {
  it('asks for frames + codebooks - 1 tokens (delay pattern) at the config frame rate', () => {
    expect(framesFor(2, { samplingRate: 32000, frameRate: 50, hop: 640, numCodebooks: 4, maxPositions: 2048 })).toEqual({ frames: 100, maxNewTokens: 103 });
    expect(framesFor(2, { samplingRate: 16000, frameRate: 25, hop: 640, numCodebooks: 4, maxPositions: 256 })).toEqual({ frames: 50, maxNewTokens: 53 });
  });

  it('decodes the oracle tone: dominant frequency within 1% and samples = frames × hop', async () => {
    const f = await getFixtures();
    const oracle = readOracle(f.musicOracle);
    const outDir = tempDir();
    const hooks = recordingHooks();
    const params = MusicParams.parse({ model: 'oracle', prompt: 'a pure tone', seconds: 1.2, temperature: 0, guidance: 3 });
    const result = await generateMusic(f.musicOracle, params, { ctx, hooks, outDir });
    const frames = Math.round(1.2 * oracle.frame_rate);
    expect(result.meta).toMatchObject({ sampleRate: oracle.sampling_rate, channels: 1, frames: frames * oracle.hop_length });
    const audio = result.outputs.find((o) => o.role === 'audio')!;
    expect(audio.durationMs).toBeCloseTo((frames * oracle.hop_length * 1000) / oracle.sampling_rate, 6);
    const wav = readPcm16(audio.path);
    expect(wav.sampleRate).toBe(oracle.sampling_rate);
    expect(wav.samples.length).toBe(frames * oracle.hop_length);
    const freq = dominantFrequency(wav.samples, wav.sampleRate);
    expect(Math.abs(freq - oracle.frequency_hz) / oracle.frequency_hz).toBeLessThan(0.01);
    // one progress event per generated frame column, plus the loading one
    const maxNewTokens = frames + oracle.num_codebooks - 1;
    expect(hooks.progress.filter((p) => p.totalSteps === maxNewTokens)).toHaveLength(maxNewTokens);
    const peaks = result.outputs.find((o) => o.role === 'peaks')!;
    const parsed = JSON.parse(readFileSync(peaks.path, 'utf8')) as { peaks: [number, number][] };
    expect(parsed.peaks).toHaveLength(200);
    expect(Math.max(...parsed.peaks.map((p) => p[1]))).toBeCloseTo(0.5, 2);
  });

  it('gives identical samples for the same seed and different ones for another seed; variations get consecutive seeds', async () => {
    const f = await getFixtures();
    const params = MusicParams.parse({ model: 'random', prompt: 'drums', seconds: 0.6, temperature: 1, topK: 50, seed: 42, variations: 2, format: 'float32' });
    const a = await generateMusic(f.musicRandom, params, { ctx, hooks: recordingHooks(), outDir: tempDir() });
    const b = await generateMusic(f.musicRandom, params, { ctx, hooks: recordingHooks(), outDir: tempDir() });
    const audioA = a.outputs.filter((o) => o.role === 'audio');
    const audioB = b.outputs.filter((o) => o.role === 'audio');
    expect(audioA.map((o) => o.seed)).toEqual([42, 43]);
    expect(readFileSync(audioA[0]!.path).equals(readFileSync(audioB[0]!.path))).toBe(true);
    expect(readFileSync(audioA[1]!.path).equals(readFileSync(audioB[1]!.path))).toBe(true);
    // the data chunks of two different seeds differ (headers carry the seed in ICMT anyway)
    const dataOf = (file: string) => readFileSync(file).subarray(-4 * 100);
    expect(dataOf(audioA[0]!.path).equals(dataOf(audioA[1]!.path))).toBe(false);
  });

  it('stops at the next frame when cancelled', async () => {
    const f = await getFixtures();
    const hooks = recordingHooks();
    let seen = 0;
    hooks.onProgress = (step, total) => {
      seen += 1;
      if (step === 3 && total > 1) hooks.controller.abort();
    };
    const run = generateMusic(f.musicRandom, MusicParams.parse({ model: 'r', prompt: 'x', seconds: 4, seed: 1 }), { ctx, hooks, outDir: tempDir() });
    await expect(run).rejects.toSatisfy((e: unknown) => e instanceof StudioError && e.code === 'CANCELLED');
    expect(seen).toBeLessThanOrEqual(5);
  });
});

describe('stereo MusicGen', () => {
  it('is refused at import and at generation with a reason, not decoded into noise', async () => {
    const f = await getFixtures();
    const dir = path.join(tempDir(), 'stereo');
    cpSync(f.musicOracle, dir, { recursive: true });
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { audio_encoder: Record<string, unknown>; decoder: Record<string, unknown> };
    config.audio_encoder.audio_channels = 2;
    config.decoder.audio_channels = 2;
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const inspection = inspectModelDir(dir);
    expect(inspection.ok).toBe(false);
    expect(inspection.problems.join(' ')).toMatch(/stereo MusicGen \(audio_channels 2\)/);
    const ctx = createEngineContext({ provider: 'cpu' });
    const error = await generateMusic(dir, MusicParams.parse({ model: 'stereo', prompt: 'x', seconds: 1, seed: 1 }), { ctx, hooks: recordingHooks(), outDir: tempDir() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('MODEL_INVALID');
    expect((error as StudioError).message).toMatch(/stereo/);
  });
});
