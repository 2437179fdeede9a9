import { randomInt } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { Template } from '@huggingface/jinja';
import type { LlamaCompletion, LlamaCompletionGenerationOptions, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import type { LlamaProviderName, RunResult } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import type { TextParams } from '../../shared/params';
import type { EngineContext } from '../runtime/context';
import { cancelled } from '../runtime/cancellation';
import { ResidentModels } from '../runtime/resident-models';
import { buildPrompt, type ChatMessage, type PromptTokenizer } from '../text/prompt';
import { loadForRun, TokenStream, type TextRunOptions } from '../text/text-run';
import { ggufParts, locateGguf } from './files';
import { inspectGguf } from './inspect';
import { llamaBackend, llamaThreads, loadNodeLlamaCpp } from './runtime';

export interface LoadedGgufModel {
  file: string;
  model: LlamaModel;
  context: LlamaContext;
  /**
   * One sequence kept for the model's lifetime: node-llama-cpp keeps its KV cache and, at the
   * next completion, evaluates only the tokens after the part of the prompt it already holds, so
   * "Continue" after "Continue" on the same document does not re-read the whole draft.
   */
  sequence: LlamaContextSequence;
  completion: LlamaCompletion;
  provider: LlamaProviderName;
  providerNote?: string;
  threads: number;
  contextLength: number;
  chatTemplate: string | null;
  /** The tensor type of most weights (general.file_type), e.g. MOSTLY_Q4_K_M. */
  fileType: string | null;
  /** Layers llama.cpp offloaded to the GPU (0 on the CPU). */
  gpuLayers: number;
}

const ggufModels = new ResidentModels<LoadedGgufModel>('text');

/** Context window used when the model allows more: enough for a long draft, modest in memory. */
const DEFAULT_CONTEXT = 4096;

function ggufFileOf(target: string): string {
  const location = locateGguf(target);
  if (location.kind === 'file') return location.file;
  if (location.kind === 'ambiguous') throw new StudioError('MODEL_INVALID', `${target} holds several GGUF models (${location.files.join(', ')}); choose one file.`);
  throw new StudioError('MODEL_INVALID', `${target} is neither a .gguf file nor a folder holding one.`);
}

/** Loads (or reuses) a GGUF model with its context on the backend the provider setting picks. */
export function loadGgufModel(ctx: EngineContext, target: string): Promise<LoadedGgufModel> {
  return ggufModels.get(ctx, target, async (dir, options) => {
    const file = ggufFileOf(dir);
    // The header is checked first: llama.cpp given a damaged file may abort the whole process.
    const inspection = await inspectGguf(file);
    if (!inspection.ok) throw new StudioError('MODEL_INVALID', `${path.basename(file)}: ${inspection.problems.join('; ')}.`);
    const backend = await llamaBackend(options.provider);
    const threads = llamaThreads(options);
    const gpuLayers = backend.provider === 'cpu' ? 0 : (options.llamaGpuLayers ?? -1) >= 0 ? (options.llamaGpuLayers ?? 0) : 'auto';
    const model = await backend.llama.loadModel({ modelPath: file, gpuLayers });
    let context: LlamaContext;
    try {
      // A context asked for in Settings is used as it is (up to the model's own); otherwise the
      // model's, up to DEFAULT_CONTEXT, smaller if memory is short.
      const asked = options.llamaContextSize ?? 0;
      const contextSize = asked > 0 ? Math.min(asked, model.trainContextSize) : { min: 256, max: Math.min(model.trainContextSize, DEFAULT_CONTEXT) };
      context = await model.createContext({ contextSize, threads, sequences: 1 });
    } catch (error) {
      await model.dispose();
      throw error;
    }
    const { LlamaCompletion, GgufFileType } = await loadNodeLlamaCpp();
    const sequence = context.getSequence();
    const template = model.fileInfo.metadata.tokenizer?.chat_template;
    const fileTypeNumber = model.fileInfo.metadata.general?.file_type;
    const entry: LoadedGgufModel = {
      file,
      model,
      context,
      sequence,
      completion: new LlamaCompletion({ contextSequence: sequence }),
      provider: backend.provider,
      ...(backend.providerNote ? { providerNote: backend.providerNote } : {}),
      threads,
      contextLength: context.contextSize,
      chatTemplate: typeof template === 'string' && template.length > 0 ? template : null,
      fileType: typeof fileTypeNumber === 'number' ? (GgufFileType[fileTypeNumber] ?? null) : null,
      gpuLayers: model.gpuLayers,
    };
    const bytes = ggufParts(file).reduce((n, part) => n + statSync(part).size, 0);
    return {
      entry,
      bytes,
      dispose: async () => {
        entry.completion.dispose();
        await context.dispose();
        await model.dispose();
      },
    };
  });
}

/** Renders the GGUF's own chat template (Jinja), as llama.cpp's server and transformers do. */
export function renderChatTemplate(template: string, messages: ChatMessage[], model: LlamaModel): string {
  const special = (token: Token | null) => (token === null ? '' : model.detokenize([token], true));
  return new Template(template).render({
    messages,
    add_generation_prompt: true,
    // LlamaCompletion prepends BOS itself when the model wants one; the template must not add a second.
    bos_token: '',
    eos_token: special(model.tokens.eos),
  });
}

/**
 * The tokenizer view the prompt builder needs. Plain continuation never reads special-token text
 * from the user's draft as control tokens; a rendered chat template does (it is made of them).
 */
function promptTokenizer(entry: LoadedGgufModel): PromptTokenizer {
  return {
    encode: (text, options) => entry.model.tokenize(text, options?.add_special_tokens === false),
    decode: (ids, options) => entry.model.detokenize(ids as Token[], options?.skip_special_tokens === false),
    hasChatTemplate: entry.chatTemplate !== null,
    applyChatTemplate: (messages) => {
      const template = entry.chatTemplate!;
      try {
        return renderChatTemplate(template, messages, entry.model);
      } catch {
        // Some templates (Gemma, Mistral) refuse a system role: fold it into the user turn.
        const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n');
        const rest = messages.filter((m) => m.role !== 'system');
        if (rest[0] && system) rest[0] = { ...rest[0], content: `${system}\n\n${rest[0].content}` };
        return renderChatTemplate(template, rest, entry.model);
      }
    },
  };
}

/**
 * The prompt as tokens, without BOS (LlamaCompletion adds it when the model asks for one) and,
 * like LlamaCompletion does for text input, with the leading space trimmed when BOS comes first.
 */
export function promptTokens(model: LlamaModel, text: string, chat: boolean): Token[] {
  return model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? model.tokenize(text, chat, 'trimLeadingSpace') : model.tokenize(text, chat);
}

/** Maps Atelier's text parameters onto llama.cpp's sampler (shared by the engine and the tests' direct runs). */
export function samplingOptions(params: TextParams, seed: number | null): Pick<LlamaCompletionGenerationOptions, 'temperature' | 'topK' | 'topP' | 'minP' | 'seed' | 'repeatPenalty' | 'customStopTriggers'> {
  const greedy = params.temperature === 0;
  return {
    temperature: params.temperature,
    ...(greedy ? {} : { topK: params.topK, topP: params.topP, ...(params.minP !== undefined ? { minP: params.minP } : {}), ...(seed !== null ? { seed } : {}) }),
    repeatPenalty: params.repetitionPenalty > 1 ? { penalty: params.repetitionPenalty, lastTokens: 64, penalizeNewLine: false } : false,
    ...(params.stop && params.stop.length > 0 ? { customStopTriggers: params.stop } : {}),
  };
}

/**
 * Text generation on llama.cpp: the same job, parameters, streaming and record as the ONNX
 * backend. A cancel stops the run before its next token and keeps what was written so far: the
 * result then carries meta.cancelled and the queue stores it as a cancelled generation.
 */
export async function generateGgufText(target: string, params: TextParams, { ctx, hooks, outDir }: TextRunOptions): Promise<RunResult> {
  const { entry, started, loadedAt } = await loadForRun(hooks, params.maxNewTokens, () => loadGgufModel(ctx, target));

  const maxNewTokens = Math.min(params.maxNewTokens, Math.max(1, entry.contextLength - 16));
  const inputBudget = Math.max(8, entry.contextLength - maxNewTokens - 1);
  const prompt = buildPrompt(promptTokenizer(entry), params, inputBudget);
  const tokens = promptTokens(entry.model, prompt.text, prompt.chat);
  const greedy = params.temperature === 0;
  const seed = greedy ? null : (params.seed ?? randomInt(0, 2 ** 32 - 1));
  const reusedTokens = commonPrefix(entry.sequence.contextTokens, tokens);

  const stream = new TokenStream(hooks, maxNewTokens);

  const generateStarted = performance.now();
  let response: Awaited<ReturnType<LlamaCompletion['generateCompletionWithMeta']>>;
  try {
    response = await entry.completion.generateCompletionWithMeta(tokens, {
      ...samplingOptions(params, seed),
      maxTokens: maxNewTokens,
      signal: hooks.signal,
      stopOnAbortSignal: true,
      onToken: (generated) => stream.counted(generated.length),
      onTextChunk: (text) => stream.text(text),
    });
    stream.flush();
  } catch (error) {
    if (hooks.signal.aborted) throw cancelled();
    throw error;
  } finally {
    stream.stopTimer();
  }
  const finished = performance.now();
  const wasCancelled = response.metadata.stopReason === 'abort' || hooks.signal.aborted;
  // Cancelled before the first token: nothing worth keeping.
  if (wasCancelled && stream.tokens === 0) throw cancelled();
  const run = { text: response.response, seed, provider: entry.provider, providerNote: entry.providerNote };
  return stream.result(outDir, {
    ...run,
    meta: {
      backend: 'llama.cpp',
      promptTokens: tokens.length,
      reusedPromptTokens: reusedTokens,
      contextLength: entry.contextLength,
      trimmedPrompt: prompt.trimmed,
      chatTemplate: prompt.chat,
      threads: entry.threads,
      gpuLayers: entry.gpuLayers,
      maxNewTokens,
      stopReason: wasCancelled ? 'cancelled' : response.metadata.stopReason,
      ...(entry.fileType ? { fileType: entry.fileType } : {}),
      ...(wasCancelled ? { cancelled: true } : {}),
    },
  }, { started, loadedAt, generateStarted, finished });
}

/** How many leading tokens two sequences share (the part of the KV cache a new prompt can reuse). */
function commonPrefix(held: readonly Token[], next: readonly Token[]): number {
  let n = 0;
  // The cache holds BOS first when the model uses one; the prompt here has none.
  const offset = held.length > 0 && next.length > 0 && held[0] !== next[0] ? 1 : 0;
  while (n + offset < held.length && n < next.length && held[n + offset] === next[n]) n++;
  return n;
}

/** Drops cached GGUF models for a path (or all). */
export function unloadGgufModels(ctx: EngineContext, target?: string): Promise<string[]> {
  return ggufModels.unload(ctx, target);
}
