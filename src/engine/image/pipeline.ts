import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { StudioError } from '../../shared/errors';
import type { OutputFile, ProviderName, RunHooks, RunResult } from '../../shared/engine-protocol';
import { ImageParams, type Scheduler } from '../../shared/params';
import { cancelled as cancelledError } from '../runtime/cancellation';
import type { LoadedSession, SessionSource } from '../runtime/types';
import { provenanceChunks, type ImageProvenance } from '../media/png';
import { encodePngWithSharp, writeThumbnailFromPixels } from '../media/png-thumbnail';
import { guidanceEmbedding, promptEmbeddings, sdxlAddedConditioning, sdxlPromptEmbeddings, type PromptEmbeddings, type RunSession } from './conditioning';
import { a1111InpaintFields, planInpaint, type InpaintPlan } from './inpaint-plan';
import { clipTokenizerFor, loadComponent, readJson, vaeScale } from './model-folder';
import { NoiseGenerator } from './noise';
import { decodedToPixels, latentPreview, SD15_LATENT_RGB, SDXL_LATENT_RGB } from './pixels';
import { createScheduler, type DiffusionScheduler, type SchedulerConfig } from './schedulers';
import { floatTensor, floatTypeOf, inputInfo, toFloat32, type InputInfo } from './tensors';

const cancelled = () => cancelledError('The image generation was cancelled.');

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
  const run: RunSession = async (s, feeds) => {
    const a = performance.now();
    try {
      return await s.session.run(feeds);
    } finally {
      timings.sessionRunMs += performance.now() - a;
    }
  };
  const load = (name: string): Promise<LoadedSession> => loadComponent(opts.sessions, modelDir, name);

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
  let prompts: PromptEmbeddings;
  let addedConditioning: Record<string, ort.Tensor> = {};
  let text2: LoadedSession | null = null;
  if (!sdxl) {
    prompts = await promptEmbeddings(run, sessions.text, tokenizer, cfg ? [params.negativePrompt, params.prompt] : [params.prompt]);
  } else {
    // An empty negative prompt is all zeros (force_zeros_for_empty_prompt), not an encoded "".
    text2 = await load('text_encoder_2');
    const zeroNegative = cfg && params.negativePrompt.trim() === '' && modelIndex.force_zeros_for_empty_prompt !== false;
    const texts = cfg && !zeroNegative ? [params.negativePrompt, params.prompt] : [params.prompt];
    const sdxlPrompts = await sdxlPromptEmbeddings(run, [sessions.text, text2], [tokenizer, clipTokenizerFor(join(modelDir, 'tokenizer_2'))], texts, zeroNegative);
    prompts = sdxlPrompts;
    addedConditioning = sdxlAddedConditioning(unetInputs, sdxlPrompts, H, W);
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
  const ehsTensor = floatTensor(floatTypeOf(ehsInfo), prompts.hiddenStates, prompts.dims);
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
        ...addedConditioning,
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
    const pixels = decodedToPixels(toFloat32(img), H, W);
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
      inputIds: prompts.idsType,
      ...(sdxl ? { architecture: 'sdxl' } : {}),
      img2img,
      ...(plan && plan.mode !== 'img2img' ? { inpaint: plan.mode, inpaintUnet } : {}),
      vaeScale: scaling,
    },
  };
}
