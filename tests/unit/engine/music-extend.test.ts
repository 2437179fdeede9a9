import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, readWav } from '../../../src/engine/media/wav-read';
import { encodeWav } from '../../../src/engine/media/wav';
import { CROSSFADE_NOTE, crossfadeJoin, planWindows } from '../../../src/engine/music/crossfade';
import { generateMusic } from '../../../src/engine/music/generate';
import { createEngineContext } from '../../../src/engine/runtime/context';
import { StudioError } from '../../../src/shared/errors';
import { MusicParams } from '../../../src/shared/params';
import { getFixtures, recordingHooks, tempDir } from './helpers';

interface Oracle {
  frequency_hz: number;
  sampling_rate: number;
  hop_length: number;
  frame_rate: number;
}

const ctx = createEngineContext({ provider: 'cpu' });

function readOracle(dir: string): Oracle {
  return JSON.parse(readFileSync(path.join(dir, 'oracle.json'), 'utf8')) as Oracle;
}

/** Largest |x[n+1] − x[n]| over [from, to). */
function maxJump(x: Float32Array, from = 0, to = x.length): number {
  let most = 0;
  for (let n = Math.max(1, from); n < to; n++) most = Math.max(most, Math.abs(x[n]! - x[n - 1]!));
  return most;
}

describe('WAV reader', () => {
  it('reads back what encodeWav writes: pcm16 exactly (same integers), float32 bit for bit, stereo interleaved', () => {
    const samples = new Float32Array(2 * 300).map((_, i) => Math.sin(i / 7) * (i % 2 ? 0.9 : -1));
    for (const format of ['pcm16', 'float32'] as const) {
      const wav = encodeWav({ samples, channels: 2, sampleRate: 22050, format, info: { title: 't', comment: 'c' } });
      const decoded = decodeWav(wav);
      expect(decoded).toMatchObject({ channels: 2, sampleRate: 22050, format, frames: 300 });
      if (format === 'float32') expect(Array.from(decoded.samples)).toEqual(Array.from(samples));
      else expect(encodeWav({ samples: decoded.samples, channels: 2, sampleRate: 22050, format, info: { title: 't', comment: 'c' } }).equals(wav)).toBe(true);
    }
  });

  it('refuses what it cannot read with INVALID_INPUT', () => {
    expect(() => decodeWav(Buffer.from('not a wav at all'))).toThrow(StudioError);
    const wav = encodeWav({ samples: new Float32Array(4), channels: 1, sampleRate: 8000, format: 'pcm16' });
    wav.writeUInt16LE(24, 34); // 24-bit
    expect(() => decodeWav(wav)).toThrow(/only 16-bit PCM and 32-bit float/);
  });
});

describe('crossfade helpers', () => {
  it('joins a and b over n frames with equal-power gains; length a + b − n', () => {
    const a = new Float32Array(10).fill(1);
    const b = new Float32Array(8).fill(1);
    const out = crossfadeJoin(a, b, 1, 4);
    expect(out.length).toBe(14);
    expect(out[6]).toBe(1); // first overlapped sample is a's
    for (let i = 0; i < 4; i++) expect(out[6 + i]).toBeCloseTo(Math.cos((Math.PI / 2) * (i / 4)) + Math.sin((Math.PI / 2) * (i / 4)), 6);
    expect(out[10]).toBe(1);
  });

  it('plans windows that sum exactly to the requested frames, each within the window', () => {
    for (const [total, max, overlap] of [[300, 252, 38], [1000, 252, 38], [253, 252, 38], [252, 252, 38], [5000, 100, 75]] as const) {
      const plan = planWindows(total, max, overlap);
      expect(plan.frames.every((f) => f <= max && f > plan.overlapFrames)).toBe(true);
      expect(plan.frames.reduce((x, y) => x + y, 0) - (plan.frames.length - 1) * plan.overlapFrames).toBe(total);
    }
    expect(planWindows(200, 252, 38)).toEqual({ frames: [200], overlapFrames: 0 });
  });
});

describe('music extension (oracle fixture)', () => {
  it('extends a piece: source + new − crossfade samples, the source kept, no discontinuity, honest meta', async () => {
    const f = await getFixtures();
    const oracle = readOracle(f.musicOracle);
    const hop = oracle.hop_length;
    const base = MusicParams.parse({ model: 'oracle', prompt: 'a pure tone', seconds: 4, temperature: 0, guidance: 3 });
    const first = await generateMusic(f.musicOracle, base, { ctx, hooks: recordingHooks(), outDir: tempDir() });
    const sourcePath = first.outputs.find((o) => o.role === 'audio')!.path;
    const source = await readWav(sourcePath);
    expect(source.frames).toBe(100 * hop);

    const params = MusicParams.parse({ ...base, seconds: 3 });
    const result = await generateMusic(f.musicOracle, params, { ctx, hooks: recordingHooks(), outDir: tempDir(), extendFromPath: sourcePath });
    const overlapFrames = Math.round(1.5 * oracle.frame_rate); // 38 codec frames (1.52 s) ≤ half the 100-frame source
    const segmentSamples = (75 + overlapFrames) * hop; // the generated segment: 3 s added + the overlap
    const crossfadeSamples = overlapFrames * hop;
    const out = await readWav(result.outputs.find((o) => o.role === 'audio')!.path);
    expect(out.frames).toBe(source.frames + segmentSamples - crossfadeSamples);
    expect(out.frames).toBe(source.frames + 75 * hop);
    expect(result.meta).toMatchObject({
      extension: 'crossfade',
      extendedFrom: path.basename(sourcePath),
      crossfadeSeconds: crossfadeSamples / oracle.sampling_rate,
      note: CROSSFADE_NOTE,
      frames: out.frames,
      sampleRate: oracle.sampling_rate,
    });
    expect(result.outputs.find((o) => o.role === 'audio')!.durationMs).toBeCloseTo((out.frames / oracle.sampling_rate) * 1000, 6);
    // the untouched part of the source is bit-identical (16-bit round trip is exact)
    const keep = source.frames - crossfadeSamples;
    expect(Array.from(out.samples.subarray(0, keep))).toEqual(Array.from(source.samples.subarray(0, keep)));
    // the crossfade region: no jump larger than the tone's own slope allows (a hard cut between
    // two phases of a 0.5-amplitude tone jumps up to 1.0)
    const toneJump = maxJump(source.samples);
    const seam = maxJump(out.samples, keep - 1, keep + crossfadeSamples + 1);
    expect(seam).toBeLessThanOrEqual(Math.SQRT2 * toneJump + 0.01);
    expect(maxJump(out.samples)).toBeLessThanOrEqual(Math.SQRT2 * toneJump + 0.01);
  });

  it('a short source gets a crossfade of at most half its length', async () => {
    const f = await getFixtures();
    const oracle = readOracle(f.musicOracle);
    const sourcePath = path.join(tempDir(), 'short.wav');
    const tone = new Float32Array(oracle.hop_length * 10).map((_, n) => 0.5 * Math.sin((2 * Math.PI * oracle.frequency_hz * n) / oracle.sampling_rate));
    writeFileSync(sourcePath, encodeWav({ samples: tone, channels: 1, sampleRate: oracle.sampling_rate, format: 'float32' }));
    const result = await generateMusic(f.musicOracle, MusicParams.parse({ model: 'oracle', prompt: 'tone', seconds: 1, temperature: 0 }), { ctx, hooks: recordingHooks(), outDir: tempDir(), extendFromPath: sourcePath });
    expect(result.meta).toMatchObject({ crossfadeSeconds: (5 * oracle.hop_length) / oracle.sampling_rate, frames: tone.length + 25 * oracle.hop_length });
  });

  it('refuses a source of another sample rate', async () => {
    const f = await getFixtures();
    const sourcePath = path.join(tempDir(), 'other-rate.wav');
    writeFileSync(sourcePath, encodeWav({ samples: new Float32Array(4410), channels: 1, sampleRate: 44100, format: 'pcm16' }));
    const run = generateMusic(f.musicOracle, MusicParams.parse({ model: 'oracle', prompt: 'tone', seconds: 1, temperature: 0 }), { ctx, hooks: recordingHooks(), outDir: tempDir(), extendFromPath: sourcePath });
    await expect(run).rejects.toSatisfy((e: unknown) => e instanceof StudioError && e.code === 'INVALID_INPUT');
  });

  it('makes a piece longer than the decoder window in crossfaded windows of the requested length', async () => {
    const f = await getFixtures();
    const oracle = readOracle(f.musicOracle);
    // the fixture decoder has 256 positions and 4 codebooks: at most 252 frames (10.08 s) per window
    const hooks = recordingHooks();
    const result = await generateMusic(f.musicOracle, MusicParams.parse({ model: 'oracle', prompt: 'a pure tone', seconds: 12, temperature: 0, guidance: 1 }), { ctx, hooks, outDir: tempDir() });
    const out = await readWav(result.outputs.find((o) => o.role === 'audio')!.path);
    expect(out.frames).toBe(12 * oracle.frame_rate * oracle.hop_length);
    expect(result.meta).toMatchObject({ windows: 2, frames: out.frames, note: CROSSFADE_NOTE, extension: 'crossfade', crossfadeSeconds: (38 * oracle.hop_length) / oracle.sampling_rate });
    const toneJump = (2 * Math.PI * oracle.frequency_hz * 0.5) / oracle.sampling_rate;
    expect(maxJump(out.samples)).toBeLessThanOrEqual(Math.SQRT2 * toneJump + 0.01);
    // progress runs over both windows to the total
    const last = hooks.progress.at(-1)!;
    expect(last.step).toBe(last.totalSteps);
    expect(last.message).toBe('Window 2 of 2');
  }, 180_000);
});
