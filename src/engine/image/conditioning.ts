import * as ort from 'onnxruntime-node';
import { StudioError } from '../../shared/errors';
import type { LoadedSession } from '../runtime/types';
import type { ClipTokenizer } from './clip-tokenizer';
import { floatTensor, floatTypeOf, inputInfo, toFloat32, type InputInfo } from './tensors';

/**
 * What the unet is conditioned on: the prompts' hidden states (one CLIP text encoder, or SDXL's
 * two side by side), SDXL's added conditioning (pooled text embeds and time ids) and the LCM
 * guidance embedding.
 */

/** Runs a session (the pipeline passes one that also times the run). */
export type RunSession = (session: LoadedSession, feeds: Record<string, ort.Tensor>) => Promise<ort.InferenceSession.OnnxValueMapType>;

/** The unet's `encoder_hidden_states`: one row per prompt in the batch ([negative, prompt] when guiding). */
export interface PromptEmbeddings {
  hiddenStates: Float32Array;
  /** [rows, tokens, width] */
  dims: readonly number[];
  /** The text encoders' input_ids type (int32 or int64), recorded in the run's meta. */
  idsType: string;
}

/** Tokenizes `texts` and runs them through a CLIP text encoder as one batch. */
async function encodeTexts(run: RunSession, encoder: LoadedSession, tokenizer: ClipTokenizer, texts: string[]): Promise<{ info: InputInfo; out: ort.InferenceSession.OnnxValueMapType }> {
  const inputs = inputInfo(encoder.session);
  const info = inputs.get('input_ids') ?? [...inputs.values()][0];
  if (!info) throw new StudioError('MODEL_INVALID', 'A text encoder of this image model has no input.');
  const ids = texts.flatMap((p) => tokenizer.encode(p));
  const L = tokenizer.maxLength;
  const tensor =
    info.type === 'int32'
      ? new ort.Tensor('int32', Int32Array.from(ids), [texts.length, L])
      : new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [texts.length, L]);
  return { info, out: await run(encoder, { [info.name]: tensor }) };
}

/** SD 1.x/2.x: the text encoder's last hidden state. */
export async function promptEmbeddings(run: RunSession, encoder: LoadedSession, tokenizer: ClipTokenizer, texts: string[]): Promise<PromptEmbeddings> {
  const { info, out } = await encodeTexts(run, encoder, tokenizer, texts);
  const hidden = out.last_hidden_state ?? out[encoder.session.outputNames[0]];
  return { hiddenStates: toFloat32(hidden), dims: hidden.dims, idsType: info.type };
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

/** SDXL's prompt embeddings plus the second encoder's pooled projection (the unet's `text_embeds`). */
export interface SdxlPromptEmbeddings extends PromptEmbeddings {
  /** [rows, pooledWidth] */
  pooledTextEmbeds: Float32Array;
  pooledWidth: number;
}

/**
 * SDXL: both encoders' penultimate hidden states side by side per token, and the second encoder's
 * pooled projection. With `zeroNegative` the negative row is all zeros in both (diffusers'
 * force_zeros_for_empty_prompt) and is added in front of the prompt rows, which `texts` then
 * holds alone.
 */
export async function sdxlPromptEmbeddings(
  run: RunSession,
  encoders: readonly [LoadedSession, LoadedSession],
  tokenizers: readonly [ClipTokenizer, ClipTokenizer],
  texts: string[],
  zeroNegative: boolean,
): Promise<SdxlPromptEmbeddings> {
  const [encoder1, encoder2] = encoders;
  const first = await encodeTexts(run, encoder1, tokenizers[0], texts);
  const second = await encodeTexts(run, encoder2, tokenizers[1], texts);
  const hidden1 = penultimateHidden(first.out, encoder1.session.outputNames);
  const hidden2 = penultimateHidden(second.out, encoder2.session.outputNames);
  const pooled = second.out.text_embeds ?? second.out[encoder2.session.outputNames.find((n) => second.out[n]?.dims.length === 2) ?? ''];
  if (!pooled) throw new StudioError('MODEL_INVALID', 'text_encoder_2 has no text_embeds output; is this an SDXL export?');
  const [encodedRows, tokens, width1] = hidden1.dims as [number, number, number];
  const width2 = hidden2.dims[2]!;
  if (hidden2.dims[0] !== encodedRows || hidden2.dims[1] !== tokens) throw new StudioError('MODEL_INVALID', 'The two SDXL text encoders disagree on the prompt length.');
  const states1 = toFloat32(hidden1);
  const states2 = toFloat32(hidden2);
  const zeroRows = zeroNegative ? 1 : 0;
  const rows = encodedRows + zeroRows;
  const width = width1 + width2;
  const hiddenStates = new Float32Array(rows * tokens * width);
  for (let r = 0; r < encodedRows; r++) {
    for (let t = 0; t < tokens; t++) {
      const token = r * tokens + t;
      const dst = ((r + zeroRows) * tokens + t) * width;
      hiddenStates.set(states1.subarray(token * width1, (token + 1) * width1), dst);
      hiddenStates.set(states2.subarray(token * width2, (token + 1) * width2), dst + width1);
    }
  }
  const pooledWidth = pooled.dims[1]!;
  const pooledTextEmbeds = new Float32Array(rows * pooledWidth);
  pooledTextEmbeds.set(toFloat32(pooled).subarray(0, encodedRows * pooledWidth), zeroRows * pooledWidth);
  return { hiddenStates, dims: [rows, tokens, width], idsType: first.info.type, pooledTextEmbeds, pooledWidth };
}

/** SDXL's `time_ids` per row: (original size, crop top-left, target size), as diffusers builds add_time_ids. */
export function sdxlTimeIds(rows: number, height: number, width: number): Float32Array {
  const timeIds = new Float32Array(rows * 6);
  for (let r = 0; r < rows; r++) timeIds.set([height, width, 0, 0, height, width], r * 6);
  return timeIds;
}

/** The SDXL unet's added conditioning feeds, `text_embeds` and `time_ids`, for a picture of height × width. */
export function sdxlAddedConditioning(unetInputs: Map<string, InputInfo>, prompts: SdxlPromptEmbeddings, height: number, width: number): Record<string, ort.Tensor> {
  const textEmbeds = unetInputs.get('text_embeds');
  const timeIds = unetInputs.get('time_ids');
  if (!textEmbeds || !timeIds) throw new StudioError('MODEL_INVALID', 'The SDXL unet has no text_embeds or time_ids input.');
  const rows = prompts.dims[0]!;
  return {
    [textEmbeds.name]: floatTensor(floatTypeOf(textEmbeds), prompts.pooledTextEmbeds, [rows, prompts.pooledWidth]),
    [timeIds.name]: floatTensor(floatTypeOf(timeIds), sdxlTimeIds(rows, height, width), [rows, 6]),
  };
}

/** Guidance-scale embedding for LCM unets with `timestep_cond` (diffusers get_guidance_scale_embedding). */
export function guidanceEmbedding(w: number, dim: number): Float32Array {
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
