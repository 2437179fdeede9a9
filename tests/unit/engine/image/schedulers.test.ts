import { describe, expect, it } from 'vitest';
import { createScheduler, DDIMScheduler, DPMSolverMultistepScheduler, EulerScheduler, LCMScheduler } from '../../../../src/engine/image/schedulers';
import { NoiseGenerator, randn } from '../../../../src/engine/image/noise';

// SD 1.5 scheduler_config.json (PNDMScheduler) as published.
const SD15 = { _class_name: 'PNDMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000, steps_offset: 1, set_alpha_to_one: false, skip_prk_steps: true };

// Independent reference, straight from the formulas.
function refAlphasCumprod(): number[] {
  const out: number[] = [];
  let p = 1;
  for (let i = 0; i < 1000; i++) {
    const b = (Math.sqrt(0.00085) + (i / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085))) ** 2;
    p *= 1 - b;
    out.push(p);
  }
  return out;
}
const AC = refAlphasCumprod();
const SIG = AC.map((a) => Math.sqrt((1 - a) / a));
const sigmaAt = (t: number): number => {
  const lo = Math.floor(t);
  return lo >= 999 ? SIG[999] : SIG[lo] + (t - lo) * (SIG[lo + 1] - SIG[lo]);
};

describe('Euler (diffusers EulerDiscreteScheduler)', () => {
  it('linspace timesteps and sigmas for 20 steps', () => {
    const s = new EulerScheduler(SD15);
    s.setTimesteps(20);
    expect(s.timesteps).toHaveLength(20);
    expect(s.timesteps[0]).toBe(999);
    expect(s.timesteps[1]).toBeCloseTo(999 - 999 / 19, 10);
    expect(s.timesteps[19]).toBe(0);
    expect(s.sigmas[0]).toBeCloseTo(SIG[999], 10);
    expect(s.sigmas[0]).toBeCloseTo(14.6146, 3);
    expect(s.sigmas[1]).toBeCloseTo(sigmaAt(999 - 999 / 19), 10);
    expect(s.sigmas[19]).toBeCloseTo(SIG[0], 10);
    expect(s.sigmas[20]).toBe(0);
    // linspace spacing: init_noise_sigma = σ_max (not √(σ²+1)).
    expect(s.initNoiseSigma).toBeCloseTo(SIG[999], 10);
    const x = new Float32Array([2]);
    expect(s.scaleModelInput(x, 0)[0]).toBeCloseTo(2 / Math.sqrt(SIG[999] ** 2 + 1), 6);
  });

  it('honours timestep_spacing leading / trailing from the config', () => {
    const lead = new EulerScheduler({ ...SD15, timestep_spacing: 'leading' });
    lead.setTimesteps(20);
    expect(lead.timesteps[0]).toBe(951);
    expect(lead.timesteps[19]).toBe(1);
    expect(lead.initNoiseSigma).toBeCloseTo(Math.sqrt(SIG[951] ** 2 + 1), 10);
    const trail = new EulerScheduler({ ...SD15, timestep_spacing: 'trailing' });
    trail.setTimesteps(20);
    expect(trail.timesteps[0]).toBe(999);
    expect(trail.timesteps[19]).toBe(49);
  });

  it('one step: x + (σ_next − σ)·ε for epsilon, and the v_prediction form', () => {
    const s = new EulerScheduler(SD15);
    s.setTimesteps(20);
    const x = new Float32Array([1.5]);
    const eps = new Float32Array([0.25]);
    const r = s.step(eps, 0, x, new NoiseGenerator(0));
    expect(r.prevSample[0]).toBeCloseTo(1.5 + (s.sigmas[1] - s.sigmas[0]) * 0.25, 5);
    const v = new EulerScheduler({ ...SD15, prediction_type: 'v_prediction' });
    v.setTimesteps(20);
    const sg = v.sigmas[0];
    const x0 = 0.25 * (-sg / Math.sqrt(sg * sg + 1)) + 1.5 / (sg * sg + 1);
    expect(v.step(eps, 0, x, new NoiseGenerator(0)).predOriginal[0]).toBeCloseTo(x0, 5);
  });
});

describe('DDIM', () => {
  it('leading timesteps with steps_offset and the η=0 update', () => {
    const s = new DDIMScheduler(SD15);
    s.setTimesteps(20);
    expect(s.timesteps[0]).toBe(951);
    expect(s.timesteps[1]).toBe(901);
    expect(s.timesteps[19]).toBe(1);
    expect(s.initNoiseSigma).toBe(1);
    const x = new Float32Array([0.8]);
    const e = new Float32Array([0.3]);
    const a = AC[951];
    const ap = AC[901];
    const x0 = (0.8 - Math.sqrt(1 - a) * 0.3) / Math.sqrt(a);
    expect(s.step(e, 0, x, new NoiseGenerator(0)).prevSample[0]).toBeCloseTo(Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * 0.3, 5);
    // last step: prev_t < 0 → final_alpha_cumprod = ᾱ_0 (set_alpha_to_one false)
    const a1 = AC[1];
    const x0b = (0.8 - Math.sqrt(1 - a1) * 0.3) / Math.sqrt(a1);
    expect(s.step(e, 19, x, new NoiseGenerator(0)).prevSample[0]).toBeCloseTo(Math.sqrt(AC[0]) * x0b + Math.sqrt(1 - AC[0]) * 0.3, 5);
  });
});

describe('DPM++ 2M Karras', () => {
  it('Karras ρ=7 sigmas over the training range and log-sigma timesteps', () => {
    const s = new DPMSolverMultistepScheduler(SD15, { karras: true });
    s.setTimesteps(20);
    const smin = SIG[0];
    const smax = SIG[999];
    const karras = (i: number): number => (smax ** (1 / 7) + (i / 19) * (smin ** (1 / 7) - smax ** (1 / 7))) ** 7;
    expect(s.sigmas[0]).toBeCloseTo(smax, 8);
    expect(s.sigmas[1]).toBeCloseTo(karras(1), 8);
    expect(s.sigmas[10]).toBeCloseTo(karras(10), 8);
    expect(s.sigmas[19]).toBeCloseTo(smin, 8);
    expect(s.sigmas[20]).toBe(0);
    expect(s.timesteps.slice(0, 4)).toEqual([999, 962, 921, 876]);
    expect(s.timesteps[19]).toBe(0);
    expect(s.initNoiseSigma).toBe(1);
  });
});

describe('LCM', () => {
  it('4 steps from the 50-step origin schedule', () => {
    const s = new LCMScheduler({ ...SD15, steps_offset: 0 });
    s.setTimesteps(4);
    expect(s.timesteps).toEqual([999, 759, 499, 259]);
  });
});

describe('createScheduler', () => {
  it('maps every ImageParams scheduler', () => {
    for (const n of ['euler', 'euler-a', 'ddim', 'dpmpp-2m-karras', 'lcm'] as const) expect(createScheduler(n, SD15).name).toBe(n);
  });

  it('a wrong variant fails these checks (Euler with leading spacing differs from linspace)', () => {
    const wrong = new EulerScheduler({ ...SD15, timestep_spacing: 'leading' });
    wrong.setTimesteps(20);
    expect(wrong.timesteps[0]).not.toBe(999);
    expect(Math.abs(wrong.initNoiseSigma - SIG[999])).toBeGreaterThan(0.01);
  });
});

describe('noise', () => {
  it('is reproducible for a seed and differs across seeds', () => {
    const a = randn(42, 1000);
    const b = randn(42, 1000);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(randn(43, 1000).buffer).equals(Buffer.from(a.buffer))).toBe(false);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(sd - 1)).toBeLessThan(0.1);
  });

  it('pins the first values (a change here changes every seeded picture)', () => {
    const g = new NoiseGenerator(1);
    // mulberry32(1) first output: 0.6270739405881613 · 2^32 (the published reference value).
    expect(g.nextUint32() / 2 ** 32).toBe(0.6270739405881613);
    expect(Array.from(randn(1, 3))).toEqual([0.9659740328788757, 0.016605805605649948, 1.123104214668274]);
  });
});
