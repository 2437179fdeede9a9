import type { NoiseGenerator } from '../noise';
import { predictOriginalVP, spacedTimesteps, TrainingSchedule } from './common';
import type { DiffusionScheduler, SchedulerConfig, StepResult } from './common';

/**
 * diffusers `DDIMScheduler` with eta = 0 (deterministic), no clipping or thresholding.
 * Default spacing "leading": t_i = i·(N // n) + steps_offset, descending. The step goes from t
 * to t − N // n; below 0 it uses `final_alpha_cumprod` (1 when set_alpha_to_one, else ᾱ_0).
 */
export class DDIMScheduler extends TrainingSchedule implements DiffusionScheduler {
  readonly name: string = 'ddim';
  readonly initNoiseSigma = 1;
  protected readonly finalAlphaCumprod: number;
  timesteps: number[] = [];
  protected numSteps = 0;

  constructor(config: SchedulerConfig) {
    super(config, { spacing: 'leading', setAlphaToOne: true });
    this.finalAlphaCumprod = this.cfg.setAlphaToOne ? 1 : this.ac[0];
  }

  setTimesteps(n: number): void {
    this.numSteps = n;
    this.timesteps = spacedTimesteps(this.cfg, n, false);
  }

  scaleModelInput(sample: Float32Array, _index: number): Float32Array {
    return sample;
  }

  /** (x0, ε) from the model output at ᾱ_t. */
  protected split(modelOutput: Float32Array, a: number, sample: Float32Array): { x0: Float32Array; eps: Float32Array } {
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    const prediction = this.cfg.predictionType;
    const x0 = predictOriginalVP(prediction, modelOutput, sample, sa, sb);
    const eps = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      if (prediction === 'epsilon') eps[i] = modelOutput[i];
      else if (prediction === 'v_prediction') eps[i] = sa * modelOutput[i] + sb * sample[i];
      else eps[i] = (sample[i] - sa * modelOutput[i]) / sb;
    }
    return { x0, eps };
  }

  step(modelOutput: Float32Array, index: number, sample: Float32Array, _gen: NoiseGenerator): StepResult {
    const t = this.timesteps[index];
    const prevT = t - Math.floor(this.cfg.numTrainTimesteps / this.numSteps);
    const a = this.ac[t];
    const aPrev = prevT >= 0 ? this.ac[prevT] : this.finalAlphaCumprod;
    const { x0, eps } = this.split(modelOutput, a, sample);
    const ca = Math.sqrt(aPrev);
    const cb = Math.sqrt(1 - aPrev);
    const prev = new Float32Array(sample.length);
    for (let i = 0; i < prev.length; i++) prev[i] = ca * x0[i] + cb * eps[i];
    return { prevSample: prev, predOriginal: x0 };
  }

  addNoise(original: Float32Array, noise: Float32Array, index: number): Float32Array {
    const a = this.ac[this.timesteps[index]];
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = sa * original[i] + sb * noise[i];
    return out;
  }
}

/**
 * diffusers `LCMScheduler`: timesteps from the 50-step "original" schedule
 * (k = N // original_inference_steps, origin = [1..50]·k − 1, reversed), picked at
 * floor(linspace(0, 50, n, endpoint=False)); consistency boundary scalings with sigma_data 0.5 and
 * timestep_scaling 10; fresh noise between steps.
 */
export class LCMScheduler extends DDIMScheduler {
  override readonly name: string = 'lcm';
  private readonly originalSteps: number;
  private readonly timestepScaling: number;

  constructor(config: SchedulerConfig) {
    super({ ...config, set_alpha_to_one: config.set_alpha_to_one ?? true });
    this.originalSteps = config.original_inference_steps ?? 50;
    this.timestepScaling = config.timestep_scaling ?? 10;
  }

  override setTimesteps(n: number): void {
    const N = this.cfg.numTrainTimesteps;
    const k = Math.floor(N / this.originalSteps);
    const origin = Array.from({ length: this.originalSteps }, (_, i) => (i + 1) * k - 1).reverse();
    if (n > origin.length) throw new Error(`LCM supports at most ${origin.length} steps.`);
    this.numSteps = n;
    this.timesteps = Array.from({ length: n }, (_, i) => origin[Math.floor((i * origin.length) / n)]);
  }

  override step(modelOutput: Float32Array, index: number, sample: Float32Array, gen: NoiseGenerator): StepResult {
    const t = this.timesteps[index];
    const last = index === this.timesteps.length - 1;
    const prevT = last ? t : this.timesteps[index + 1];
    const a = this.ac[t];
    const aPrev = prevT >= 0 ? this.ac[prevT] : this.finalAlphaCumprod;
    const st = t * this.timestepScaling;
    const cSkip = 0.25 / (st * st + 0.25);
    const cOut = st / Math.sqrt(st * st + 0.25);
    const { x0 } = this.split(modelOutput, a, sample);
    const denoised = new Float32Array(sample.length);
    for (let i = 0; i < denoised.length; i++) denoised[i] = cOut * x0[i] + cSkip * sample[i];
    if (last) return { prevSample: denoised, predOriginal: denoised };
    const noise = gen.randn(sample.length);
    const ca = Math.sqrt(aPrev);
    const cb = Math.sqrt(1 - aPrev);
    const prev = new Float32Array(sample.length);
    for (let i = 0; i < prev.length; i++) prev[i] = ca * denoised[i] + cb * noise[i];
    return { prevSample: prev, predOriginal: denoised };
  }
}
