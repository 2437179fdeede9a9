/**
 * Joining pieces of audio without a seam, for music longer than the model's window and for
 * extending a library piece. The MusicGen exports transformers.js runs (Xenova/musicgen-small)
 * ship only `encodec_decode`, no audio encoder: the model cannot be prompted with existing
 * audio, so a continuation cannot "hear" what came before. What is possible, and what is done
 * here, is generating a new segment with the same prompt and blending the two with an
 * equal-power crossfade; the result's metadata says so (CROSSFADE_NOTE).
 */

export const CROSSFADE_NOTE = 'Continued by crossfading a new segment; the model could not hear the original (its export has no audio encoder).';

/** Default crossfade length between a piece's tail and the next segment's head. */
export const DEFAULT_CROSSFADE_SECONDS = 1.5;

/**
 * `a` then `b` (interleaved, `channels` per frame), overlapping by `overlapFrames`: over the
 * overlap, a fades out with cos(θ) while b fades in with sin(θ), θ = (π/2)·(i/n), so the power
 * of two uncorrelated signals stays constant (cos² + sin² = 1) and the first overlapped sample
 * is exactly a's. Length: a + b − overlap frames.
 */
export function crossfadeJoin(a: Float32Array, b: Float32Array, channels: number, overlapFrames: number): Float32Array {
  const aFrames = a.length / channels;
  const bFrames = b.length / channels;
  const n = Math.max(0, Math.min(overlapFrames, aFrames, bFrames));
  const out = new Float32Array(a.length + b.length - n * channels);
  const start = (aFrames - n) * channels;
  out.set(a.subarray(0, start), 0);
  for (let i = 0; i < n; i++) {
    const theta = (Math.PI / 2) * (i / n);
    const fadeOut = Math.cos(theta);
    const fadeIn = Math.sin(theta);
    for (let c = 0; c < channels; c++) {
      const k = i * channels + c;
      out[start + k] = a[start + k]! * fadeOut + b[k]! * fadeIn;
    }
  }
  out.set(b.subarray(n * channels), start + n * channels);
  return out;
}

/** Mono → `channels` by copying; the same layout when channels already match. */
export function toChannels(samples: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return samples;
  if (from !== 1) throw new RangeError(`cannot map ${from} channels to ${to}`);
  const out = new Float32Array(samples.length * to);
  for (let f = 0; f < samples.length; f++) for (let c = 0; c < to; c++) out[f * to + c] = samples[f]!;
  return out;
}

export interface WindowPlan {
  /** Codec frames each window generates (each ≤ maxFrames). */
  frames: number[];
  /** Codec frames two neighbouring windows overlap (crossfade). */
  overlapFrames: number;
}

/**
 * Splits `totalFrames` codec frames into windows of at most `maxFrames` that overlap by
 * `overlapFrames` (clamped to half a window), so that the joined length is exactly
 * totalFrames: Σ frames − (windows − 1) · overlap = totalFrames. Windows are as equal as
 * possible (the first ones one frame longer when it does not divide).
 */
export function planWindows(totalFrames: number, maxFrames: number, overlapFrames: number): WindowPlan {
  if (totalFrames <= maxFrames) return { frames: [totalFrames], overlapFrames: 0 };
  const overlap = Math.max(0, Math.min(overlapFrames, Math.floor(maxFrames / 2)));
  const count = Math.ceil((totalFrames - overlap) / (maxFrames - overlap));
  const sum = totalFrames + (count - 1) * overlap;
  const base = Math.floor(sum / count);
  const extra = sum - base * count;
  return { frames: Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0)), overlapFrames: overlap };
}
