import { describe, expect, it } from 'vitest';
import { mixToMono, resample } from '../../../src/engine/media/resample';

function tone(hz: number, rate: number, seconds: number): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, n) => Math.sin((2 * Math.PI * hz * n) / rate));
}

/** Amplitude of `hz` in `x` (correlation with a complex tone), 1 for a unit sine. */
function amplitude(x: Float32Array, hz: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let n = 0; n < x.length; n++) {
    re += x[n]! * Math.cos((2 * Math.PI * hz * n) / rate);
    im += x[n]! * Math.sin((2 * Math.PI * hz * n) / rate);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

describe('resampling for embedding models', () => {
  it('keeps a tone its pitch and level when the rate goes up or down', () => {
    for (const [from, to] of [
      [32000, 48000],
      [44100, 48000],
      [96000, 48000],
    ] as const) {
      const out = resample(tone(440, from, 0.5), from, to);
      expect(out.length).toBe(Math.round(0.5 * to));
      // Away from the edges (where the signal starts from silence).
      const middle = out.subarray(Math.round(0.05 * to), Math.round(0.45 * to));
      expect(amplitude(middle, 440, to)).toBeCloseTo(1, 2);
    }
  });

  it('removes what lies above the new Nyquist frequency instead of folding it down', () => {
    // 30 kHz at 96 kHz would alias to 18 kHz at 48 kHz without the filter.
    const out = resample(tone(30000, 96000, 0.2), 96000, 48000);
    expect(amplitude(out.subarray(2000, 8000), 18000, 48000)).toBeLessThan(0.01);
  });

  it('keeps a constant signal constant and the same rate untouched', () => {
    const flat = new Float32Array(1000).fill(0.25);
    const out = resample(flat, 22050, 48000);
    for (let i = 100; i < out.length - 100; i++) expect(out[i]).toBeCloseTo(0.25, 4);
    expect(resample(flat, 48000, 48000)).toBe(flat);
    expect(() => resample(flat, 0, 48000)).toThrow(RangeError);
  });

  it('mixes interleaved channels to their mean', () => {
    expect([...mixToMono(Float32Array.from([1, 0, 0.5, 0.5, -1, 1]), 2)]).toEqual([0.5, 0.5, 0]);
  });
});
