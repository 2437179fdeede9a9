import type { NoiseGenerator } from '../noise';
import { interpIndex, karrasSigmas, linspace, predictOriginalVP, roundHalfEven, sigmaToT, trainSigmas, TrainingSchedule } from './common';
import type { DiffusionScheduler, SchedulerConfig, StepResult } from './common';

/**
 * diffusers `DPMSolverMultistepScheduler` with algorithm_type "dpmsolver++", solver_order 2,
 * solver_type "midpoint", final_sigmas_type "zero" (first-order final step) and, by default here,
 * `use_karras_sigmas` (the "DPM++ 2M Karras" of AUTOMATIC1111).
 *
 * set_timesteps: timesteps = linspace(0, N−1, n+1).round() reversed minus the last ("linspace");
 * with Karras sigmas: σ_i = (σ_max^{1/7} + i/(n−1)·(σ_min^{1/7} − σ_max^{1/7}))^7 over the full
 * training range, timesteps = round(sigma_to_t(σ_i)); then σ = 0 appended.
 * Latents live in the variance-preserving space: init_noise_sigma = 1, no input scaling.
 */
export class DPMSolverMultistepScheduler extends TrainingSchedule implements DiffusionScheduler {
  readonly name: string = 'dpmpp-2m-karras';
  readonly initNoiseSigma = 1;
  private readonly useKarras: boolean;
  timesteps: number[] = [];
  sigmas: number[] = [];
  private outputs: Float32Array[] = [];
  private lastIndex = -1;

  constructor(config: SchedulerConfig, opts: { karras?: boolean } = {}) {
    super(config, { spacing: 'linspace', setAlphaToOne: false });
    this.useKarras = opts.karras ?? config.use_karras_sigmas ?? true;
  }

  setTimesteps(n: number): void {
    const N = this.cfg.numTrainTimesteps;
    let ts: number[];
    if (this.cfg.spacing === 'linspace') {
      ts = linspace(0, N - 1, n + 1).map(roundHalfEven).reverse().slice(0, n);
    } else if (this.cfg.spacing === 'leading') {
      const ratio = Math.floor(N / (n + 1));
      ts = Array.from({ length: n + 1 }, (_, i) => i * ratio).reverse().slice(0, n).map((t) => t + this.cfg.stepsOffset);
    } else {
      const ratio = N / n;
      ts = Array.from({ length: n }, (_, i) => roundHalfEven(N - i * ratio) - 1);
    }
    const all = trainSigmas(this.ac);
    let sig: number[];
    if (this.useKarras) {
      const logs = all.map(Math.log);
      sig = karrasSigmas(all[0], all[all.length - 1], n);
      ts = sig.map((s) => roundHalfEven(sigmaToT(s, logs)));
    } else {
      sig = ts.map((t) => interpIndex(all, t));
    }
    this.timesteps = ts;
    this.sigmas = [...sig, 0];
    this.outputs = [];
    this.lastIndex = -1;
  }

  scaleModelInput(sample: Float32Array, _index: number): Float32Array {
    return sample;
  }

  private static alphaSigma(sigma: number): { alpha: number; sigma: number; lambda: number } {
    const alpha = 1 / Math.sqrt(sigma * sigma + 1);
    const s = sigma * alpha;
    return { alpha, sigma: s, lambda: Math.log(alpha) - Math.log(s) };
  }

  step(modelOutput: Float32Array, index: number, sample: Float32Array, _gen: NoiseGenerator): StepResult {
    const cur = DPMSolverMultistepScheduler.alphaSigma(this.sigmas[index]);
    const x0 = predictOriginalVP(this.cfg.predictionType, modelOutput, sample, cur.alpha, cur.sigma);
    // A restart (img2img starting mid-schedule) or a jump resets the multistep history.
    if (this.lastIndex !== index - 1) this.outputs = [];
    this.lastIndex = index;
    this.outputs.push(x0);
    if (this.outputs.length > 2) this.outputs.shift();

    const nxt = DPMSolverMultistepScheduler.alphaSigma(this.sigmas[index + 1]);
    const prev = new Float32Array(sample.length);
    const last = index === this.timesteps.length - 1;
    const next0 = this.sigmas[index + 1] === 0;
    if (next0) {
      // σ_next = 0: the first-order update reduces to x0 exactly.
      prev.set(x0);
    } else {
      const h = nxt.lambda - cur.lambda;
      const ratio = nxt.sigma / cur.sigma;
      const em1 = Math.exp(-h) - 1;
      if (this.outputs.length < 2 || last) {
        for (let i = 0; i < prev.length; i++) prev[i] = ratio * sample[i] - nxt.alpha * em1 * x0[i];
      } else {
        const before = DPMSolverMultistepScheduler.alphaSigma(this.sigmas[index - 1]);
        const h0 = cur.lambda - before.lambda;
        const r0 = h0 / h;
        const m1 = this.outputs[0];
        for (let i = 0; i < prev.length; i++) {
          const d1 = (x0[i] - m1[i]) / r0;
          prev[i] = ratio * sample[i] - nxt.alpha * em1 * x0[i] - 0.5 * nxt.alpha * em1 * d1;
        }
      }
    }
    return { prevSample: prev, predOriginal: x0 };
  }

  addNoise(original: Float32Array, noise: Float32Array, index: number): Float32Array {
    const { alpha, sigma } = DPMSolverMultistepScheduler.alphaSigma(this.sigmas[index]);
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = alpha * original[i] + sigma * noise[i];
    return out;
  }
}
