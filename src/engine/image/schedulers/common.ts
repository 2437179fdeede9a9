import type { NoiseGenerator } from '../noise';

/**
 * The subset of a diffusers `scheduler_config.json` the schedulers read. Unknown keys are ignored;
 * missing keys take the defaults of the scheduler class being built (as diffusers' `from_config`
 * does), so an SD 1.5 `PNDMScheduler` config gives Euler its own default spacing ("linspace").
 */
export interface SchedulerConfig {
  _class_name?: string;
  num_train_timesteps?: number;
  beta_start?: number;
  beta_end?: number;
  beta_schedule?: 'linear' | 'scaled_linear' | 'squaredcos_cap_v2' | string;
  trained_betas?: number[] | null;
  steps_offset?: number;
  timestep_spacing?: 'linspace' | 'leading' | 'trailing' | string;
  prediction_type?: 'epsilon' | 'v_prediction' | 'sample' | string;
  set_alpha_to_one?: boolean;
  /** LCM */
  original_inference_steps?: number;
  timestep_scaling?: number;
  /** DPM-Solver / Euler */
  use_karras_sigmas?: boolean;
}

export type Spacing = 'linspace' | 'leading' | 'trailing';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

export interface StepResult {
  prevSample: Float32Array;
  /** The scheduler's estimate of the clean latent (x0), used for previews. */
  predOriginal: Float32Array;
}

/** One sampler instance for one run; `setTimesteps` must be called before use. */
export interface DiffusionScheduler {
  readonly name: string;
  /** Timesteps fed to the UNet, in order (may be fractional for sigma-based samplers). */
  readonly timesteps: readonly number[];
  /** Multiply the initial unit noise by this. */
  readonly initNoiseSigma: number;
  setTimesteps(numInferenceSteps: number): void;
  /** Scale the latents before the UNet call at step `index` (identity for DDIM-style samplers). */
  scaleModelInput(sample: Float32Array, index: number): Float32Array;
  /** One denoising step from the UNet's output at step `index`. `gen` supplies ancestral noise. */
  step(modelOutput: Float32Array, index: number, sample: Float32Array, gen: NoiseGenerator): StepResult;
  /** Noise clean latents to the noise level of step `index` (img2img). */
  addNoise(original: Float32Array, noise: Float32Array, index: number): Float32Array;
}

export interface ResolvedConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: string;
  trainedBetas: number[] | null;
  stepsOffset: number;
  spacing: Spacing;
  predictionType: PredictionType;
  setAlphaToOne: boolean;
}

export function resolveConfig(cfg: SchedulerConfig, defaults: { spacing: Spacing; setAlphaToOne: boolean }): ResolvedConfig {
  const spacing = cfg.timestep_spacing ?? defaults.spacing;
  if (spacing !== 'linspace' && spacing !== 'leading' && spacing !== 'trailing') {
    throw new Error(`Unsupported timestep_spacing "${spacing}" (expected linspace, leading or trailing).`);
  }
  const pred = cfg.prediction_type ?? 'epsilon';
  if (pred !== 'epsilon' && pred !== 'v_prediction' && pred !== 'sample') {
    throw new Error(`Unsupported prediction_type "${pred}".`);
  }
  return {
    numTrainTimesteps: cfg.num_train_timesteps ?? 1000,
    betaStart: cfg.beta_start ?? 0.0001,
    betaEnd: cfg.beta_end ?? 0.02,
    betaSchedule: cfg.beta_schedule ?? 'linear',
    trainedBetas: cfg.trained_betas ?? null,
    stepsOffset: cfg.steps_offset ?? 0,
    spacing,
    predictionType: pred,
    setAlphaToOne: cfg.set_alpha_to_one ?? defaults.setAlphaToOne,
  };
}

/** betas as diffusers defines them for `linear`, `scaled_linear` and `squaredcos_cap_v2`. */
export function makeBetas(c: ResolvedConfig): Float64Array {
  const n = c.numTrainTimesteps;
  if (c.trainedBetas) return Float64Array.from(c.trainedBetas);
  const out = new Float64Array(n);
  if (c.betaSchedule === 'linear') {
    for (let i = 0; i < n; i++) out[i] = c.betaStart + ((c.betaEnd - c.betaStart) * i) / (n - 1);
  } else if (c.betaSchedule === 'scaled_linear') {
    const a = Math.sqrt(c.betaStart);
    const b = Math.sqrt(c.betaEnd);
    for (let i = 0; i < n; i++) {
      const v = a + ((b - a) * i) / (n - 1);
      out[i] = v * v;
    }
  } else if (c.betaSchedule === 'squaredcos_cap_v2') {
    const f = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (let i = 0; i < n; i++) out[i] = Math.min(1 - f((i + 1) / n) / f(i / n), 0.999);
  } else {
    throw new Error(`Unsupported beta_schedule "${c.betaSchedule}".`);
  }
  return out;
}

/** ᾱ_t = ∏_{s ≤ t} (1 − β_s), computed in float64. */
export function alphasCumprod(c: ResolvedConfig): Float64Array {
  const betas = makeBetas(c);
  const out = new Float64Array(betas.length);
  let p = 1;
  for (let i = 0; i < betas.length; i++) {
    p *= 1 - betas[i];
    out[i] = p;
  }
  return out;
}

/**
 * What every scheduler derives from its config: the config with diffusers' defaults for that
 * scheduler (`cfg`) and ᾱ over the training timesteps (`ac`).
 */
export abstract class TrainingSchedule {
  protected readonly cfg: ResolvedConfig;
  protected readonly ac: Float64Array;

  constructor(config: SchedulerConfig, defaults: { spacing: Spacing; setAlphaToOne: boolean }) {
    this.cfg = resolveConfig(config, defaults);
    this.ac = alphasCumprod(this.cfg);
  }
}

/**
 * The clean-sample estimate x0 from a model output, in the variance-preserving space
 * x = α·x0 + σ·ε (diffusers' predicted original sample / convert_model_output).
 */
export function predictOriginalVP(prediction: PredictionType, modelOutput: Float32Array, sample: Float32Array, alpha: number, sigma: number): Float32Array {
  const x0 = new Float32Array(sample.length);
  for (let i = 0; i < x0.length; i++) {
    if (prediction === 'epsilon') x0[i] = (sample[i] - sigma * modelOutput[i]) / alpha;
    else if (prediction === 'v_prediction') x0[i] = alpha * sample[i] - sigma * modelOutput[i];
    else x0[i] = modelOutput[i];
  }
  return x0;
}

/** σ_t = √((1 − ᾱ_t) / ᾱ_t) for every training timestep. */
export function trainSigmas(ac: Float64Array): Float64Array {
  return ac.map((a) => Math.sqrt((1 - a) / a));
}

/** numpy.linspace(start, stop, num) (endpoint included). */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => start + step * i);
}

/** numpy.round (half to even). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/**
 * The descending timesteps of Euler-style (sigma) schedulers, per diffusers' `timestep_spacing`:
 * linspace: linspace(0, N−1, n) reversed (fractional); leading: round(i·(N // n)) reversed +
 * steps_offset; trailing: round(arange(N, 0, −N/n)) − 1.
 */
export function spacedTimesteps(c: ResolvedConfig, n: number, fractional: boolean): number[] {
  const N = c.numTrainTimesteps;
  if (c.spacing === 'linspace') {
    const t = linspace(0, N - 1, n).reverse();
    return fractional ? t : t.map(roundHalfEven);
  }
  if (c.spacing === 'leading') {
    const ratio = Math.floor(N / n);
    return Array.from({ length: n }, (_, i) => roundHalfEven(i * ratio) + c.stepsOffset).reverse();
  }
  const ratio = N / n;
  const out: number[] = [];
  for (let v = N; v > 0 && out.length < n; v -= ratio) out.push(roundHalfEven(v) - 1);
  return out;
}

/** numpy.interp(x, arange(len(ys)), ys): linear interpolation at a fractional index. */
export function interpIndex(ys: ArrayLike<number>, x: number): number {
  if (x <= 0) return ys[0];
  const last = ys.length - 1;
  if (x >= last) return ys[last];
  const lo = Math.floor(x);
  const w = x - lo;
  return ys[lo] * (1 - w) + ys[lo + 1] * w;
}

/** diffusers `_sigma_to_t`: the fractional timestep whose log-sigma matches (log-linear interpolation). */
export function sigmaToT(sigma: number, logSigmas: Float64Array): number {
  const ls = Math.log(Math.max(sigma, 1e-10));
  let lowIdx = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigmas[i] <= ls) lowIdx = i;
  // numpy: cumsum(dists >= 0).argmax() — the last index with log_sigma >= log_sigmas[i].
  lowIdx = Math.min(lowIdx, logSigmas.length - 2);
  const highIdx = lowIdx + 1;
  const low = logSigmas[lowIdx];
  const high = logSigmas[highIdx];
  let w = (low - ls) / (low - high);
  w = Math.min(1, Math.max(0, w));
  return (1 - w) * lowIdx + w * highIdx;
}

/** Karras et al. (2022) sigmas, rho = 7, from sigmaMax down to sigmaMin (n values). */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7): number[] {
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return linspace(0, 1, n).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** out[i] = a·x[i] + b·y[i] */
export function axpby(a: number, x: Float32Array, b: number, y: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = a * x[i] + b * y[i];
  return out;
}

export function scale(a: number, x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = a * x[i];
  return out;
}
