import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { StudioError } from '../../shared/errors';
import type { OutputFile, ProviderName, RunHooks, RunResult } from '../../shared/engine-protocol';
import { ImageParams, type Scheduler } from '../../shared/params';
import type { LoadedSession, SessionSource } from '../runtime/types';
import { encodePng, provenanceChunks, type ImageProvenance } from '../media/png';
import { encodePngWithSharp, writeThumbnailFromPixels } from '../media/png-thumbnail';
import { ClipTokenizer } from './clip-tokenizer';
import { NoiseGenerator } from './noise';
import { createScheduler, type DiffusionScheduler, type SchedulerConfig } from './schedulers';
import { floatTensor, floatTypeOf, inputInfo, toFloat32, type InputInfo } from './tensors';
import { a1111InpaintFields, planInpaint, type InpaintPlan } from './inpaint-plan';

export interface GenerateImageOptions {
  sessions: SessionSource;
  hooks: RunHooks;
  /** Folder the PNGs (and thumbnails) are written into; created when missing. */
  outDir: string;
  /** img2img source picture (any format sharp reads); resized to width × height. */
  initImagePath?: string;
  /** Inpainting mask (white = repaint) over the init picture; any format sharp reads. */
  maskImagePath?: string;
  /** Replace the sampler (tests use this to prove a broken sampler is caught). */
  createScheduler?: (name: Scheduler, config: SchedulerConfig) => DiffusionScheduler;
  /** Write 256 px webp thumbnails next to the images (default true). */
  thumbnails?: boolean;
}

/** SD 1.5 latent → RGB factors (as AUTOMATIC1111 / ComfyUI use for cheap previews), [c][rgb]. */
export const SD15_LATENT_RGB: readonly (readonly [number, number, number])[] = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177],
];

/** SDXL latent → RGB factors (the same cheap projection, for the SDXL VAE's latent space). */
export const SDXL_LATENT_RGB: readonly (readonly [number, number, number])[] = [
  [0.3651, 0.4232, 0.4341],
  [-0.2533, -0.0042, 0.1068],
  [0.1076, 0.1111, -0.0362],
  [-0.3165, -0.2492, -0.2188],
];

const DEFAULT_VAE_SCALE = 0.18215;

function readJson<T>(path: string, what: string): T {
  if (!existsSync(path)) throw new StudioError('MODEL_INVALID', `The image model is missing ${what} (${path}). Re-download or re-import the model.`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    throw new StudioError('MODEL_INVALID', `${path} is not valid JSON. Re-download or re-import the model.`);
  }
}

function cancelled(): StudioError {
  return new StudioError('CANCELLED', 'The image generation was cancelled.');
}

function vaeScale(modelDir: string): number {
  for (const p of ['vae_decoder/config.json', 'vae/config.json']) {
    const f = join(modelDir, p);
    if (existsSync(f)) {
      const cfg = JSON.parse(readFileSync(f, 'utf8')) as { scaling_factor?: unknown };
      if (typeof cfg.scaling_factor === 'number' && cfg.scaling_factor > 0) return cfg.scaling_factor;
    }
  }
  return DEFAULT_VAE_SCALE;
}

const TOKENIZER_FILES = ['tokenizer.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];
const tokenizers = new Map<string, { stamp: string; tokenizer: ClipTokenizer }>();

/**
 * The CLIP tokenizer of a `tokenizer/` folder, parsed once and reused while its files keep their
 * size and mtime (a real CLIP vocab + 48k merges take tens of ms to parse; a few stats do not).
 */
export function clipTokenizerFor(dir: string): ClipTokenizer {
  const stamp = TOKENIZER_FILES.map((name) => {
    try {
      const info = statSync(join(dir, name));
      return `${info.size}:${info.mtimeMs}`;
    } catch {
      return '-';
    }
  }).join('|');
  const cached = tokenizers.get(dir);
  if (cached && cached.stamp === stamp) return cached.tokenizer;
  const tokenizer = ClipTokenizer.fromDir(dir);
  tokenizers.set(dir, { stamp, tokenizer });
  return tokenizer;
}

/**
 * Latent (4 × h × w) → small RGB PNG data URL via the SD 1.5 linear projection. Encoded for speed
 * (filter Up, zlib level 1: ~0.1 ms at 64×64): a preview lives for one step on screen.
 */
export function latentPreview(latent: Float32Array, h: number, w: number, factors: readonly (readonly [number, number, number])[] = SD15_LATENT_RGB): string {
  const px = new Uint8Array(h * w * 3);
  const n = h * w;
  const [m0, m1, m2, m3] = factors;
  const [r0, g0, b0] = m0;
  const [r1, g1, b1] = m1;
  const [r2, g2, b2] = m2;
  const [r3, g3, b3] = m3;
  for (let i = 0; i < n; i++) {
    const l0 = latent[i];
    const l1 = latent[n + i];
    const l2 = latent[2 * n + i];
    const l3 = latent[3 * n + i];
    const j = i * 3;
    px[j] = unitToByte((l0 * r0 + l1 * r1 + l2 * r2 + l3 * r3 + 1) / 2);
    px[j + 1] = unitToByte((l0 * g0 + l1 * g1 + l2 * g2 + l3 * g3 + 1) / 2);
    px[j + 2] = unitToByte((l0 * b0 + l1 * b1 + l2 * b2 + l3 * b3 + 1) / 2);
  }
  return `data:image/png;base64,${encodePng(px, w, h, 3, [], { level: 1, filter: 'up' }).toString('base64')}`;
}

/**
 * round(clamp(t, 0, 1) · 255), written without Math.min/max calls (the same value for every input,
 * NaN included: it ends as 0 in a Uint8Array either way). Hot: 786k calls per 512² image.
 */
function unitToByte(t: number): number {
  return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
}

/** Decoder output [1, 3, H, W] in [−1, 1] → RGB bytes (diffusers: round(clamp(x/2 + 0.5)·255)). */
function toPixels(img: Float32Array, H: number, W: number): Uint8Array {
  const px = new Uint8Array(H * W * 3);
  const n = H * W;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    px[j] = unitToByte(img[i] / 2 + 0.5);
    px[j + 1] = unitToByte(img[n + i] / 2 + 0.5);
    px[j + 2] = unitToByte(img[2 * n + i] / 2 + 0.5);
  }
  return px;
}

/** Guidance-scale embedding for LCM unets with `timestep_cond` (diffusers get_guidance_scale_embedding). */
function guidanceEmbedding(w: number, dim: number): Float32Array {
  const half = Math.floor(dim / 2);
  const out = new Float32Array(dim);
  const base = Math.log(10000) / (half - 1);
  for (let i = 0; i < half; i++) {
    const v = w * 1000 * Math.exp(-base * i);
    out[i] = Math.sin(v);
    out[half + i] = Math.cos(v);
  }
  return out;
}

/**
 * The penultimate hidden state of a CLIP text encoder, which SDXL conditions on: the
 * `hidden_states.N` outputs of an export made with output_hidden_states, second to last; an export
 * without them only offers last_hidden_state.
 */
function penultimateHidden(out: ort.InferenceSession.OnnxValueMapType, names: readonly string[]): ort.Tensor {
  const layers = names
    .map((name) => ({ name, index: /^hidden_states\.(\d+)$/.exec(name)?.[1] }))
    .filter((l): l is { name: string; index: string } => l.index !== undefined)
    .sort((x, y) => Number(x.index) - Number(y.index));
  const pick = layers.length >= 2 ? layers[layers.length - 2]!.name : 'last_hidden_state';
  const tensor = out[pick];
  if (!tensor || tensor.dims.length !== 3) throw new StudioError('MODEL_INVALID', `An SDXL text encoder has no ${pick} output of shape [batch, tokens, width].`);
  return tensor;
}

interface Loaded {
  text: LoadedSession;
  unet: LoadedSession;
  decoder: LoadedSession;
}

/**
 * Stable Diffusion 1.x/2.x and SDXL(-Turbo) on onnxruntime-node from a diffusers / Optimum ONNX
 * folder (SDXL when the unet takes text_embeds and time_ids).
 * txt2img and img2img, classifier-free guidance (uncond + cond in one batch), batch items
 * seeded seed+i, a latent preview and progress per step, cancellation between steps.
 */
export async function generateImage(modelDir: string, rawParams: ImageParams, opts: GenerateImageOptions): Promise<RunResult> {
  const t0 = performance.now();
  const parsed = ImageParams.safeParse(rawParams);
  if (!parsed.success) throw new StudioError('INVALID_INPUT', `Invalid image parameters: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const params = parsed.data;
  const { hooks } = opts;
  if (hooks.signal.aborted) throw cancelled();

  const modelIndex = readJson<Record<string, unknown>>(join(modelDir, 'model_index.json'), 'model_index.json');
  const schedulerConfig = readJson<SchedulerConfig>(join(modelDir, 'scheduler', 'scheduler_config.json'), 'scheduler/scheduler_config.json');
  const makeScheduler = opts.createScheduler ?? createScheduler;
  const tokenizer = clipTokenizerFor(join(modelDir, 'tokenizer'));
  const scaling = vaeScale(modelDir);
  const baseSeed = params.seed ?? randomInt(0, 2 ** 32 - 1);
  mkdirSync(opts.outDir, { recursive: true });
  // What runs at which size: txt2img/img2img at width × height; inpainting with the mask's plan
  // (outpaint: the grown canvas; only-masked: the crop resized to width × height).
  const plan: InpaintPlan | null = opts.initImagePath !== undefined ? await planInpaint(params, opts.initImagePath, opts.maskImagePath) : null;
  if (!plan && (opts.maskImagePath !== undefined || params.outpaint)) throw new StudioError('INVALID_INPUT', 'Inpainting and outpainting need an init image to paint over.');
  const maskPng = opts.maskImagePath !== undefined ? await sharp(opts.maskImagePath).png().toBuffer({ resolveWithObject: true }) : null;
  const W = plan ? plan.width : params.width;
  const H = plan ? plan.height : params.height;
  const h = H / 8;
  const w = W / 8;
  const latentSize = 4 * h * w;

  const timings = { textEncodeMs: 0, encodeMs: 0, denoiseMs: 0, decodeMs: 0, sessionRunMs: 0, previewMs: 0, outputMs: 0, totalMs: 0 };
  const run = async (s: LoadedSession, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> => {
    const a = performance.now();
    try {
      return await s.session.run(feeds);
    } finally {
      timings.sessionRunMs += performance.now() - a;
    }
  };
  const load = async (name: string): Promise<LoadedSession> => {
    const file = join(modelDir, name, 'model.onnx');
    if (!existsSync(file)) throw new StudioError('MODEL_INVALID', `The image model is missing ${name}/model.onnx. Re-download or re-import the model.`);
    return opts.sessions.load(file);
  };

  // img2img: how many steps run, from which index (diffusers get_timesteps).
  const img2img = opts.initImagePath !== undefined;
  const initSteps = img2img ? Math.min(Math.floor(params.steps * params.strength), params.steps) : params.steps;
  const tStart = params.steps - initSteps;
  const outputs: OutputFile[] = [];
  const provenance = (seed: number): ImageProvenance => ({ ...params, seed });
  /** PNG with provenance + thumbnail + file write (timed as outputMs); inpainting composites first. */
  const writeOutput = async (i: number, seed: number, generated: Uint8Array): Promise<void> => {
    const tOut = performance.now();
    const final = plan ? await plan.finish(generated) : { data: generated, width: W, height: H };
    const { data: pixels, width: outW, height: outH } = final;
    const file = join(opts.outDir, `image-${String(i + 1).padStart(2, '0')}-${seed}.png`);
    // PNG and thumbnail both come from the pixels in memory and run concurrently on sharp's
    // threads (the thumbnail no longer decodes the PNG just written).
    const thumbnail = (opts.thumbnails ?? true) ? writeThumbnailFromPixels(pixels, outW, outH, 3, file.replace(/\.png$/, '.thumb.webp'), 256) : null;
    const png = encodePngWithSharp(pixels, outW, outH, 3, provenanceChunks(provenance(seed), plan ? a1111InpaintFields(plan.mode, params) : {}));
    const [bytes, thumb] = await Promise.all([png, thumbnail]);
    await writeFile(file, bytes);
    outputs.push({ path: file, mime: 'image/png', role: 'image', width: outW, height: outH, seed });
    if (thumb) outputs.push({ path: thumb.path, mime: 'image/webp', role: 'thumbnail', width: thumb.width, height: thumb.height, seed });
    if (maskPng) {
      // The mask travels with each picture it made, so the library shows it and a remix can reuse it.
      const maskFile = join(opts.outDir, `mask-${String(i + 1).padStart(2, '0')}-${seed}.png`);
      await writeFile(maskFile, maskPng.data);
      outputs.push({ path: maskFile, mime: 'image/png', role: 'mask', width: maskPng.info.width, height: maskPng.info.height, seed });
    }
    timings.outputMs += performance.now() - tOut;
  };

  const initPixels: Uint8Array | undefined = plan?.canvas.data;

  // strength 0: nothing to denoise; the picture is the (resized) init image, exactly.
  if (initPixels && initSteps === 0) {
    for (let i = 0; i < params.batch; i++) await writeOutput(i, (baseSeed + i) >>> 0, initPixels);
    timings.totalMs = performance.now() - t0;
    return { outputs, seed: baseSeed, provider: 'none', providerNote: 'No model ran: strength 0 returns the init image unchanged.', timings, meta: { steps: 0, img2img: true, ...(plan?.latentMask ? { inpaint: plan.mode } : {}) } };
  }

  const sessions: Loaded = { text: await load('text_encoder'), unet: await load('unet'), decoder: await load('vae_decoder') };
  const unetInputs = inputInfo(sessions.unet.session);
  const hasTimestepCond = unetInputs.has('timestep_cond');
  const cfg = params.guidance > 1 && !hasTimestepCond;
  const sdxl = unetInputs.has('text_embeds') && unetInputs.has('time_ids');

  // ---- text encoding: [negative, prompt] in one batch when guiding ----
  const tText = performance.now();
  const encode = async (session: LoadedSession, tok: ClipTokenizer, texts: string[]) => {
    const inputs = inputInfo(session.session);
    const info = inputs.get('input_ids') ?? [...inputs.values()][0];
    if (!info) throw new StudioError('MODEL_INVALID', 'A text encoder of this image model has no input.');
    const ids = texts.flatMap((p) => tok.encode(p));
    const L = tok.maxLength;
    const tensor =
      info.type === 'int32'
        ? new ort.Tensor('int32', Int32Array.from(ids), [texts.length, L])
        : new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [texts.length, L]);
    return { info, out: await run(session, { [info.name]: tensor }) };
  };
  let hiddenData: Float32Array;
  let hiddenDims: readonly number[];
  let idsType: string;
  const sdxlFeeds: Record<string, ort.Tensor> = {};
  let text2: LoadedSession | null = null;
  if (!sdxl) {
    const { info, out } = await encode(sessions.text, tokenizer, cfg ? [params.negativePrompt, params.prompt] : [params.prompt]);
    const hidden = out.last_hidden_state ?? out[sessions.text.session.outputNames[0]];
    hiddenData = toFloat32(hidden);
    hiddenDims = hidden.dims;
    idsType = info.type;
  } else {
    // SDXL: both encoders' penultimate hidden states side by side, the second one's pooled
    // projection as text_embeds; an empty negative prompt is all zeros (force_zeros_for_empty_prompt).
    text2 = await load('text_encoder_2');
    const tokenizer2 = clipTokenizerFor(join(modelDir, 'tokenizer_2'));
    const zeroNegative = cfg && params.negativePrompt.trim() === '' && modelIndex.force_zeros_for_empty_prompt !== false;
    const texts = cfg && !zeroNegative ? [params.negativePrompt, params.prompt] : [params.prompt];
    const e1 = await encode(sessions.text, tokenizer, texts);
    const e2 = await encode(text2, tokenizer2, texts);
    const h1 = penultimateHidden(e1.out, sessions.text.session.outputNames);
    const h2 = penultimateHidden(e2.out, text2.session.outputNames);
    const pooledT = e2.out.text_embeds ?? e2.out[text2.session.outputNames.find((n) => e2.out[n]?.dims.length === 2) ?? ''];
    if (!pooledT) throw new StudioError('MODEL_INVALID', 'text_encoder_2 has no text_embeds output; is this an SDXL export?');
    const [rows, tokens, d1] = h1.dims as [number, number, number];
    const d2 = h2.dims[2]!;
    if (h2.dims[0] !== rows || h2.dims[1] !== tokens) throw new StudioError('MODEL_INVALID', 'The two SDXL text encoders disagree on the prompt length.');
    const a = toFloat32(h1);
    const b = toFloat32(h2);
    const pooled = toFloat32(pooledT);
    const P = pooledT.dims[1]!;
    const lead = zeroNegative ? 1 : 0; // zero rows in front for the negative
    const Bt = rows + lead;
    hiddenData = new Float32Array(Bt * tokens * (d1 + d2));
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < tokens; t++) {
        const dst = ((r + lead) * tokens + t) * (d1 + d2);
        hiddenData.set(a.subarray((r * tokens + t) * d1, (r * tokens + t + 1) * d1), dst);
        hiddenData.set(b.subarray((r * tokens + t) * d2, (r * tokens + t + 1) * d2), dst + d1);
      }
    }
    hiddenDims = [Bt, tokens, d1 + d2];
    const pooledAll = new Float32Array(Bt * P);
    pooledAll.set(pooled.subarray(0, rows * P), lead * P);
    const embedsInfo = unetInputs.get('text_embeds') as InputInfo;
    const timeInfo = unetInputs.get('time_ids') as InputInfo;
    sdxlFeeds[embedsInfo.name] = floatTensor(floatTypeOf(embedsInfo), pooledAll, [Bt, P]);
    // (original size, crop top-left, target size), as diffusers builds add_time_ids.
    const timeIds = new Float32Array(Bt * 6);
    for (let r = 0; r < Bt; r++) timeIds.set([H, W, 0, 0, H, W], r * 6);
    sdxlFeeds[timeInfo.name] = floatTensor(floatTypeOf(timeInfo), timeIds, [Bt, 6]);
    idsType = e1.info.type;
  }
  timings.textEncodeMs = performance.now() - tText;

  // ---- unet feeds ----
  const sampleInfo = unetInputs.get('sample') as InputInfo;
  const tsInfo = unetInputs.get('timestep');
  const ehsInfo = unetInputs.get('encoder_hidden_states');
  if (!sampleInfo || !tsInfo || !ehsInfo) {
    throw new StudioError('MODEL_INVALID', 'The unet does not have the inputs sample, timestep and encoder_hidden_states of a Stable Diffusion export.');
  }
  const unetOutName = sessions.unet.session.outputNames.includes('out_sample') ? 'out_sample' : sessions.unet.session.outputNames[0];
  const sampleType = floatTypeOf(sampleInfo);
  const ehsTensor = floatTensor(floatTypeOf(ehsInfo), hiddenData, hiddenDims);
  const B = cfg ? 2 : 1;
  const timestepForm = tsInfo.type === 'int64' || tsInfo.type === 'int32' ? tsInfo.type : floatTypeOf(tsInfo);
  const tsScalar = tsInfo.shape.length === 0;
  const tsCount = tsScalar ? 1 : tsInfo.shape[0] === 1 ? 1 : B;
  const timestepTensor = (t: number): ort.Tensor => {
    const dims = tsScalar ? [] : [tsCount];
    if (timestepForm === 'int64') return new ort.Tensor('int64', new BigInt64Array(tsCount).fill(BigInt(Math.round(t))), dims);
    if (timestepForm === 'int32') return new ort.Tensor('int32', new Int32Array(tsCount).fill(Math.round(t)), dims);
    return floatTensor(timestepForm, new Float32Array(tsCount).fill(t), dims);
  };
  const extraFeeds: Record<string, ort.Tensor> = {};
  if (hasTimestepCond) {
    const info = unetInputs.get('timestep_cond') as InputInfo;
    const dim = typeof info.shape[1] === 'number' ? info.shape[1] : 256;
    extraFeeds.timestep_cond = floatTensor(floatTypeOf(info), guidanceEmbedding(params.guidance - 1, dim), [1, dim]);
  }

  // ---- inpainting unet: 9 input channels (diffusers: latents, mask, masked image latents) ----
  const sampleChannels = sampleInfo.shape[1];
  const inpaintUnet = sampleChannels === 9;
  if (typeof sampleChannels === 'number' && sampleChannels !== 4 && !inpaintUnet) {
    throw new StudioError('MODEL_INVALID', `The unet takes ${sampleChannels} input channels; only 4 (text-to-image) and 9 (inpainting) are supported.`);
  }

  /** RGB bytes → latents × the VAE scale; `blank` pixels (1) are zeroed first (diffusers' masked image). */
  const encodePixels = async (pixels: Uint8Array, blank?: Uint8Array): Promise<Float32Array> => {
    const tEnc = performance.now();
    const enc = await load('vae_encoder');
    const encIn = [...inputInfo(enc.session).values()][0];
    const chw = new Float32Array(3 * H * W);
    for (let i = 0; i < H * W; i++) {
      if (blank?.[i]) continue;
      for (let k = 0; k < 3; k++) chw[k * H * W + i] = (pixels[i * 3 + k] / 255) * 2 - 1;
    }
    const out = await run(enc, { [encIn.name]: floatTensor(floatTypeOf(encIn), chw, [1, 3, H, W]) });
    const names = enc.session.outputNames;
    const key = names.includes('latent_parameters') ? 'latent_parameters' : names.includes('latent_sample') ? 'latent_sample' : names[0];
    const lat = toFloat32(out[key]);
    // latent_parameters = [mean, logvar]: take the mean (the distribution's mode, deterministic).
    const latents = new Float32Array(latentSize);
    for (let i = 0; i < latentSize; i++) latents[i] = lat[i] * scaling;
    timings.encodeMs += performance.now() - tEnc;
    return latents;
  };

  // ---- img2img: encode the init picture once ----
  const initLatents = initPixels ? await encodePixels(initPixels) : undefined;
  // The 9-channel unet's extra input: the mask (all 1 without one: the whole picture is new) and
  // the picture with the masked part blanked (all blank without an init picture), both per batch row.
  let inpaintExtra: Float32Array | undefined;
  if (inpaintUnet) {
    const mask = plan?.latentMask ?? new Float32Array(h * w).fill(1);
    // Without a mask everything is repainted: the masked image is all blank, which a real VAE does
    // not encode to zeros, so it is encoded like any other (zeros only for a folder without an encoder).
    const blank = (): Promise<Float32Array> => encodePixels(new Uint8Array(H * W * 3), new Uint8Array(H * W).fill(1));
    const masked = plan?.repaint
      ? await encodePixels(plan.canvas.data, plan.repaint)
      : initPixels || existsSync(join(modelDir, 'vae_encoder', 'model.onnx'))
        ? await blank()
        : new Float32Array(latentSize);
    const row = new Float32Array(5 * h * w);
    row.set(mask, 0);
    row.set(masked, h * w);
    inpaintExtra = new Float32Array(B * 5 * h * w);
    for (let b = 0; b < B; b++) inpaintExtra.set(row, b * 5 * h * w);
  }
  // Latent blending for 4-channel unets: after each step the unmasked cells go back to the
  // original, noised to the next step's level (1 = keep the original).
  const keep = !inpaintUnet && plan?.latentMask ? plan.latentMask.map((m) => 1 - m) : null;

  const totalSteps = params.batch * (params.steps - tStart);
  let done = 0;
  hooks.onProgress(0, totalSteps);
  const decInfo = [...inputInfo(sessions.decoder.session).values()][0];
  let schedulerName = '';
  let timestepsRun: number[] = [];

  for (let item = 0; item < params.batch; item++) {
    const seed = (baseSeed + item) >>> 0;
    const gen = new NoiseGenerator(seed);
    const scheduler = makeScheduler(params.scheduler, schedulerConfig);
    scheduler.setTimesteps(params.steps);
    schedulerName = scheduler.name;
    timestepsRun = scheduler.timesteps.slice(tStart);
    const noise = gen.randn(latentSize);
    let latents: Float32Array;
    // A 9-channel unet at full strength starts from pure noise, as diffusers does (is_strength_max).
    if (initLatents && !(inpaintUnet && tStart === 0)) latents = scheduler.addNoise(initLatents, noise, tStart);
    else {
      latents = new Float32Array(latentSize);
      // a getter that scans the sigmas: read it once, not once per element
      const sigma = scheduler.initNoiseSigma;
      for (let i = 0; i < latentSize; i++) latents[i] = noise[i] * sigma;
    }

    const tDen = performance.now();
    for (let i = tStart; i < scheduler.timesteps.length; i++) {
      if (hooks.signal.aborted) throw cancelled();
      const x = scheduler.scaleModelInput(latents, i);
      const C = inpaintExtra ? 9 : 4;
      const rowSize = C * h * w;
      const batched = B === 1 && !inpaintExtra ? x : new Float32Array(B * rowSize);
      if (batched !== x) {
        for (let b = 0; b < B; b++) {
          // concat([latents, mask, masked_image_latents], axis=1), after scale_model_input
          batched.set(x, b * rowSize);
          if (inpaintExtra) batched.set(inpaintExtra.subarray(b * 5 * h * w, (b + 1) * 5 * h * w), b * rowSize + latentSize);
        }
      }
      const out = await run(sessions.unet, {
        [sampleInfo.name]: floatTensor(sampleType, batched, [B, C, h, w]),
        [tsInfo.name]: timestepTensor(scheduler.timesteps[i]),
        [ehsInfo.name]: ehsTensor,
        ...sdxlFeeds,
        ...extraFeeds,
      });
      const pred = toFloat32(out[unetOutName]);
      let eps: Float32Array;
      if (B === 2) {
        eps = new Float32Array(latentSize);
        for (let j = 0; j < latentSize; j++) {
          const u = pred[j];
          eps[j] = u + params.guidance * (pred[latentSize + j] - u);
        }
      } else eps = pred.length === latentSize ? pred : pred.subarray(0, latentSize);
      const res = scheduler.step(eps, i, latents, gen);
      latents = res.prevSample;
      if (keep && initLatents) {
        const last = i === scheduler.timesteps.length - 1;
        const original = last ? initLatents : scheduler.addNoise(initLatents, noise, i + 1);
        const cells = h * w;
        for (let j = 0; j < latentSize; j++) {
          const k = keep[j % cells];
          if (k) latents[j] = original[j] * k + latents[j] * (1 - k);
        }
      }
      done++;
      hooks.onProgress(done, totalSteps);
      if (hooks.onPreview) {
        const tPreview = performance.now();
        hooks.onPreview(done, latentPreview(res.predOriginal, h, w, sdxl ? SDXL_LATENT_RGB : SD15_LATENT_RGB));
        timings.previewMs += performance.now() - tPreview;
      }
    }
    timings.denoiseMs += performance.now() - tDen;
    if (hooks.signal.aborted) throw cancelled();

    const tDec = performance.now();
    const z = new Float32Array(latentSize);
    for (let i = 0; i < latentSize; i++) z[i] = latents[i] / scaling;
    const dec = await run(sessions.decoder, { [decInfo.name]: floatTensor(floatTypeOf(decInfo), z, [1, 4, h, w]) });
    const img = dec.sample ?? dec[sessions.decoder.session.outputNames[0]];
    const [, , dh, dw] = img.dims;
    if (dh !== H || dw !== W) throw new StudioError('MODEL_INVALID', `The VAE decoder returned ${dw}×${dh} for ${W}×${H}; is this a Stable Diffusion VAE?`);
    timings.decodeMs += performance.now() - tDec;
    const tPixels = performance.now();
    const pixels = toPixels(toFloat32(img), H, W);
    timings.outputMs += performance.now() - tPixels;
    await writeOutput(item, seed, pixels);
  }

  timings.totalMs = performance.now() - t0;
  const provider: ProviderName = sessions.unet.provider;
  const providerNote = sessions.unet.providerNote ?? sessions.text.providerNote ?? text2?.providerNote ?? sessions.decoder.providerNote;
  return {
    outputs,
    seed: baseSeed,
    provider,
    ...(providerNote ? { providerNote } : {}),
    timings,
    meta: {
      scheduler: schedulerName,
      timesteps: timestepsRun,
      cfg,
      timestepInput: `${timestepForm}${tsScalar ? ' scalar' : `[${tsCount === 1 ? 1 : 'B'}]`}`,
      inputIds: idsType,
      ...(sdxl ? { architecture: 'sdxl' } : {}),
      img2img,
      ...(plan && plan.mode !== 'img2img' ? { inpaint: plan.mode, inpaintUnet } : {}),
      vaeScale: scaling,
    },
  };
}
