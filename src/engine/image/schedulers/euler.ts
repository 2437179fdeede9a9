import type { NoiseGenerator } from '../noise';
import { interpIndex, karrasSigmas, scale, sigmaToT, spacedTimesteps, trainSigmas, TrainingSchedule } from './common';
import type { DiffusionScheduler, SchedulerConfig, StepResult } from './common';

/**
 * diffusers `EulerDiscreteScheduler` (s_churn = 0, the default): sigmas σ = √((1−ᾱ)/ᾱ) interpolated
 * linearly at the (possibly fractional) timesteps, a final σ = 0, `scale_model_input` x/√(σ²+1)
 * and `init_noise_sigma` = σ_max ("linspace"/"trailing") or √(σ_max²+1) ("leading").
 */
export class EulerScheduler extends TrainingSchedule implements DiffusionScheduler {
  readonly name: string = 'euler';
  protected readonly useKarras: boolean;
  timesteps: number[] = [];
  /** n + 1 values, the last one 0. */
  sigmas: number[] = [];

  constructor(config: SchedulerConfig) {
    super(config, { spacing: 'linspace', setAlphaToOne: false });
    this.useKarras = config.use_karras_sigmas ?? false;
  }

  get initNoiseSigma(): number {
    const max = Math.max(...this.sigmas);
    return this.cfg.spacing === 'linspace' || this.cfg.spacing === 'trailing' ? max : Math.sqrt(max * max + 1);
  }

  setTimesteps(n: number): void {
    let ts = spacedTimesteps(this.cfg, n, true);
    const all = trainSigmas(this.ac);
    let sig = ts.map((t) => interpIndex(all, t));
    if (this.useKarras) {
      const logs = all.map(Math.log);
      sig = karrasSigmas(sig[sig.length - 1], sig[0], n);
      ts = sig.map((s) => sigmaToT(s, logs));
    }
    this.timesteps = ts;
    this.sigmas = [...sig, 0];
  }

  scaleModelInput(sample: Float32Array, index: number): Float32Array {
    const s = this.sigmas[index];
    return scale(1 / Math.sqrt(s * s + 1), sample);
  }

  /** x0 estimate from the model output at noise level σ (sample in the σ-scaled space). */
  protected predictOriginal(modelOutput: Float32Array, sigma: number, sample: Float32Array): Float32Array {
    const out = new Float32Array(sample.length);
    if (this.cfg.predictionType === 'epsilon') {
      for (let i = 0; i < out.length; i++) out[i] = sample[i] - sigma * modelOutput[i];
    } else if (this.cfg.predictionType === 'v_prediction') {
      const c = -sigma / Math.sqrt(sigma * sigma + 1);
      const d = 1 / (sigma * sigma + 1);
      for (let i = 0; i < out.length; i++) out[i] = modelOutput[i] * c + sample[i] * d;
    } else {
      out.set(modelOutput);
    }
    return out;
  }

  step(modelOutput: Float32Array, index: number, sample: Float32Array, _gen: NoiseGenerator): StepResult {
    const sigma = this.sigmas[index];
    const next = this.sigmas[index + 1];
    const x0 = this.predictOriginal(modelOutput, sigma, sample);
    const dt = next - sigma;
    const prev = new Float32Array(sample.length);
    for (let i = 0; i < prev.length; i++) prev[i] = sample[i] + ((sample[i] - x0[i]) / sigma) * dt;
    return { prevSample: prev, predOriginal: x0 };
  }

  addNoise(original: Float32Array, noise: Float32Array, index: number): Float32Array {
    const s = this.sigmas[index];
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = original[i] + noise[i] * s;
    return out;
  }
}

/** diffusers `EulerAncestralDiscreteScheduler` (eta = 1). */
export class EulerAncestralScheduler extends EulerScheduler {
  override readonly name: string = 'euler-a';

  override step(modelOutput: Float32Array, index: number, sample: Float32Array, gen: NoiseGenerator): StepResult {
    const sigmaFrom = this.sigmas[index];
    const sigmaTo = this.sigmas[index + 1];
    const x0 = this.predictOriginal(modelOutput, sigmaFrom, sample);
    const sigmaUp = Math.sqrt((sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo)) / (sigmaFrom * sigmaFrom));
    const sigmaDown = Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
    const dt = sigmaDown - sigmaFrom;
    const noise = gen.randn(sample.length);
    const prev = new Float32Array(sample.length);
    for (let i = 0; i < prev.length; i++) prev[i] = sample[i] + ((sample[i] - x0[i]) / sigmaFrom) * dt + noise[i] * sigmaUp;
    return { prevSample: prev, predOriginal: x0 };
  }
}
