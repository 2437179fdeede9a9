import fs from 'node:fs';
import path from 'node:path';
import {
  AutoModel,
  AutoProcessor,
  AutoTokenizer,
  CLIPTextModelWithProjection,
  CLIPVisionModelWithProjection,
  RawImage,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor,
  type Tensor,
} from '@huggingface/transformers';
import type { EmbedInput, EmbedResult, EmbeddingFamily, ProviderName } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import type { EngineContext } from '../runtime/context';
import { ResidentModels } from '../runtime/resident-models';
import { loadOnDeviceChain } from '../runtime/transformers';
import { embedAudioFile, loadClap, type LoadedClap } from './clap';
import { firstTensor, normalise, rows } from './vectors';

/**
 * Embedding models through transformers.js. Three families:
 * - CLIP (config model_type "clip"): one space for pictures and text (onnx/vision_model.onnx,
 *   onnx/text_model.onnx), as Xenova/clip-vit-base-patch32 ships.
 * - CLAP (config model_type "clap"): one space for music and text (see clap.ts).
 * - sentence embedders (any other encoder, e.g. Xenova/all-MiniLM-L6-v2): text only, mean pooling
 *   over the attention mask, as sentence-transformers does.
 * Every vector leaves the engine L2-normalised, so the library compares them by dot product.
 */
interface LoadedClip {
  family: 'clip';
  tokenizer: PreTrainedTokenizer;
  processor: Processor;
  text: PreTrainedModel;
  vision: PreTrainedModel;
  provider: ProviderName;
}

interface LoadedSentence {
  family: 'text';
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
  provider: ProviderName;
}

type LoadedEmbedder = LoadedClip | LoadedClap | LoadedSentence;

const embedders = new ResidentModels<LoadedEmbedder>('embed');

/** Texts and pictures per model call: bounded so a long index run never builds one huge tensor. */
const BATCH = 16;

function readConfig(dir: string): Record<string, unknown> {
  const file = path.join(dir, 'config.json');
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new StudioError('MODEL_INVALID', `${file} is missing or not valid JSON: choose an embedding model's folder (the one that holds config.json), or download it again.`);
}

export function embeddingFamilyOf(dir: string): EmbeddingFamily {
  const type = readConfig(dir).model_type;
  return type === 'clip' || type === 'clap' ? type : 'text';
}

function loadEmbedder(ctx: EngineContext, modelDir: string): Promise<LoadedEmbedder> {
  return embedders.get(ctx, modelDir, async (dir, options) => {
    const family = embeddingFamilyOf(dir);
    let tokenizer: PreTrainedTokenizer;
    try {
      tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    } catch (error) {
      throw new StudioError('MODEL_INVALID', `The tokenizer in ${dir} could not be loaded (${error instanceof Error ? error.message : String(error)}). Download tokenizer.json and tokenizer_config.json again.`);
    }
    if (family === 'clap') return loadClap(ctx.registry, options, dir, tokenizer);
    if (family === 'clip') {
      const processor = await AutoProcessor.from_pretrained(dir, { local_files_only: true });
      const result = await loadOnDeviceChain(ctx.registry, options, dir, { text: 'onnx/text_model', vision: 'onnx/vision_model' }, async (device, dtype, sessionOptions) => {
        const text = await CLIPTextModelWithProjection.from_pretrained(dir, { local_files_only: true, device, dtype: dtype['text'], session_options: sessionOptions });
        const vision = await CLIPVisionModelWithProjection.from_pretrained(dir, { local_files_only: true, device, dtype: dtype['vision'], session_options: sessionOptions });
        return { text, vision };
      });
      const entry: LoadedClip = { family, tokenizer, processor, text: result.value.text, vision: result.value.vision, provider: result.provider };
      return { entry, bytes: result.bytes, dispose: () => Promise.all([entry.text.dispose(), entry.vision.dispose()]) };
    }
    const result = await loadOnDeviceChain(ctx.registry, options, dir, { model: 'onnx/model' }, (device, dtype, sessionOptions) =>
      AutoModel.from_pretrained(dir, { local_files_only: true, device, dtype: dtype['model'], session_options: sessionOptions }),
    );
    const entry: LoadedSentence = { family, tokenizer, model: result.value, provider: result.provider };
    return { entry, bytes: result.bytes, dispose: () => entry.model.dispose() };
  });
}

export function unloadEmbedders(ctx: EngineContext, modelDir?: string): Promise<string[]> {
  return embedders.unload(ctx, modelDir);
}

/** Mean of the hidden states where the attention mask is 1 (sentence-transformers' pooling). */
function meanPool(hidden: Tensor, mask: Tensor): number[][] {
  const [batch, seq, dim] = hidden.dims as [number, number, number];
  const data = hidden.data as Float32Array;
  const maskData = mask.data as BigInt64Array;
  const out: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const sum = new Float64Array(dim);
    let count = 0;
    for (let s = 0; s < seq; s++) {
      if (maskData[b * seq + s] === 0n) continue;
      count++;
      for (let d = 0; d < dim; d++) sum[d]! += data[(b * seq + s) * dim + d]!;
    }
    out.push(normalise(sum.map((v) => (count > 0 ? v / count : 0))));
  }
  return out;
}

async function embedTexts(entry: LoadedEmbedder, texts: string[]): Promise<number[][]> {
  const inputs = entry.tokenizer(texts, { padding: true, truncation: true });
  if (entry.family !== 'text') {
    const output = (await entry.text(inputs)) as Record<string, Tensor>;
    return rows(firstTensor(output, 'text_embeds'));
  }
  const output = (await entry.model(inputs)) as Record<string, Tensor>;
  return meanPool(firstTensor(output, 'last_hidden_state', 'token_embeddings'), inputs.attention_mask as Tensor);
}

async function embedImages(entry: LoadedClip, files: string[]): Promise<number[][]> {
  const images = await Promise.all(
    files.map(async (file) => {
      try {
        return await RawImage.read(file);
      } catch (error) {
        throw new StudioError('NOT_FOUND', `The picture ${file} could not be read (${error instanceof Error ? error.message : String(error)}).`);
      }
    }),
  );
  const inputs = (await entry.processor(images)) as Record<string, Tensor>;
  const output = (await entry.vision(inputs)) as Record<string, Tensor>;
  return rows(firstTensor(output, 'image_embeds'));
}

function refusal(modelDir: string, family: EmbeddingFamily, type: 'image' | 'audio'): StudioError {
  const does = family === 'text' ? 'embeds text only' : family === 'clip' ? 'embeds pictures and text' : 'embeds music and text';
  return new StudioError('MODEL_INVALID', `The model in ${modelDir} ${does}; ${type === 'image' ? 'pictures need a CLIP model' : 'music needs a CLAP model'}.`);
}

/**
 * Embeds texts, pictures and music with the model in `modelDir`, in the order given. Pictures need
 * a CLIP model and music a CLAP model; any other model refuses them with MODEL_INVALID.
 */
export async function embed(ctx: EngineContext, modelDir: string, inputs: EmbedInput[], signal?: AbortSignal): Promise<EmbedResult> {
  const entry = await loadEmbedder(ctx, modelDir);
  const vectors: number[][] = new Array<number[]>(inputs.length);
  const texts: { at: number; text: string }[] = [];
  const files: { at: number; path: string }[] = [];
  for (const [at, input] of inputs.entries()) {
    if (input.type === 'text') texts.push({ at, text: input.text });
    else if ((input.type === 'image' && entry.family === 'clip') || (input.type === 'audio' && entry.family === 'clap')) files.push({ at, path: input.path });
    else throw refusal(modelDir, entry.family, input.type);
  }
  const checkCancel = (): void => {
    if (signal?.aborted) throw new StudioError('CANCELLED', 'Indexing was cancelled.');
  };
  for (let i = 0; i < texts.length; i += BATCH) {
    checkCancel();
    const batch = texts.slice(i, i + BATCH);
    const out = await embedTexts(entry, batch.map((t) => t.text));
    batch.forEach((t, k) => (vectors[t.at] = out[k]!));
  }
  if (entry.family === 'clap') {
    // One piece per model call: its windows are the batch.
    for (const file of files) {
      checkCancel();
      vectors[file.at] = await embedAudioFile(entry, file.path);
    }
  } else if (entry.family === 'clip') {
    for (let i = 0; i < files.length; i += BATCH) {
      checkCancel();
      const batch = files.slice(i, i + BATCH);
      const out = await embedImages(entry, batch.map((f) => f.path));
      batch.forEach((f, k) => (vectors[f.at] = out[k]!));
    }
  }
  return { family: entry.family, dim: vectors[0]?.length ?? 0, vectors, provider: entry.provider };
}
