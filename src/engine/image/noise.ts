/**
 * Seeded Gaussian noise that reproduces bit-exactly for a given seed.
 *
 * Algorithm (stable: changing it changes every seeded picture, so treat it as a file format):
 *
 * 1. Uniform source: **mulberry32** over a 32-bit state initialised with `seed >>> 0`. Each call
 *    adds 0x6D2B79F5 to the state (mod 2^32), mixes it with 32-bit `Math.imul`/xor-shifts and
 *    yields an unsigned 32-bit integer `k`. Only integer arithmetic is involved, so the sequence
 *    is identical on every platform.
 * 2. Uniforms: `u1 = (k1 + 1) / 2^32` in (0, 1] (never 0, so the log is finite) and
 *    `u2 = k2 / 2^32` in [0, 1).
 * 3. Box-Muller: `r = sqrt(-2 ln u1)`, `z0 = r cos(2π u2)`, `z1 = r sin(2π u2)`; both are used, in
 *    that order. Values are rounded to float32 when stored.
 *
 * `Math.log`, `Math.cos` and `Math.sin` in V8 (Node, Electron) are V8's own port of fdlibm, not
 * the C library's, so the same seed yields the same float32 bits on Linux, Windows and macOS.
 * Another JavaScript engine may differ in the last bit of the transcendental functions.
 *
 * This is NOT PyTorch's generator: the same seed does not reproduce a diffusers picture.
 */
export class NoiseGenerator {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next unsigned 32-bit integer of mulberry32. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** One standard normal sample (Box-Muller, both outputs used in turn). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u1 = (this.nextUint32() + 1) / 4294967296;
    const u2 = this.nextUint32() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    const a = 2 * Math.PI * u2;
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }

  /** Fill a new float32 array of `n` standard normal samples. */
  randn(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }
}

/** `n` standard normal float32 samples from a fresh generator seeded with `seed`. */
export function randn(seed: number, n: number): Float32Array {
  return new NoiseGenerator(seed).randn(n);
}
