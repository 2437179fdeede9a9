import {
  AutoModelForCausalLM,
  LogitsProcessorList,
  TextStreamer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Tensor,
} from '@huggingface/transformers';
import type { ProviderName, RunResult } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import type { TextParams } from '../../shared/params';
import type { EngineContext } from '../runtime/context';
import { loadOnDeviceChain, openTokenizerFolder } from '../runtime/transformers';
import { ResidentModels } from '../runtime/resident-models';
import { buildPrompt, type PromptTokenizer } from './prompt';
import { seedSampler, TopKTopPLogitsProcessor } from './sampling';
import { loadForRun, TokenStream, type TextRunOptions } from './text-run';
import { cancelled, guardSteps } from '../runtime/cancellation';

export interface LoadedTextModel {
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
  provider: ProviderName;
  providerNote?: string;
  dtype: string;
  contextLength: number;
}

const textModels = new ResidentModels<LoadedTextModel>('text');

function numberField(obj: unknown, ...keys: string[]): number | undefined {
  if (!obj || typeof obj !== 'object') return undefined;
  for (const key of keys) {
    const value = (obj as Record<string, unknown>)[key];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  }
  return undefined;
}

/** The model's context window in tokens, from its config (falling back to the tokenizer's limit). */
function contextLengthOf(model: PreTrainedModel, tokenizer: PreTrainedTokenizer): number {
  const fromConfig = numberField(model.config, 'max_position_embeddings', 'n_positions', 'n_ctx', 'max_sequence_length', 'seq_length');
  if (fromConfig) return fromConfig;
  const fromTokenizer: unknown = tokenizer.model_max_length;
  // Tokenizers without a limit report ~1e30; ignore that.
  if (typeof fromTokenizer === 'number' && fromTokenizer > 0 && fromTokenizer < 1_000_000) return fromTokenizer;
  return 2048;
}

/** Loads (or reuses) tokenizer + model for a folder, on the first provider of the chain that works. */
export function loadTextModel(ctx: EngineContext, modelDir: string): Promise<LoadedTextModel> {
  return textModels.get(ctx, modelDir, async (dir, options) => {
    const tokenizer = await openTokenizerFolder(dir, 'text', 'this is not a text model folder');
    const result = await loadOnDeviceChain(ctx.registry, options, dir, { model: 'onnx/model' }, (device, dtype, sessionOptions) =>
      AutoModelForCausalLM.from_pretrained(dir, { local_files_only: true, device, dtype: dtype['model'], session_options: sessionOptions }),
    );
    const entry: LoadedTextModel = {
      tokenizer,
      model: result.value,
      provider: result.provider,
      providerNote: result.providerNote,
      dtype: result.dtypes['model'] ?? 'fp32',
      contextLength: contextLengthOf(result.value, tokenizer),
    };
    return { entry, bytes: result.bytes, dispose: () => entry.model.dispose() };
  });
}

function promptTokenizer(tokenizer: PreTrainedTokenizer): PromptTokenizer {
  const template: unknown = tokenizer.chat_template;
  return {
    encode: (text, options) => tokenizer.encode(text, options),
    decode: (ids, options) => tokenizer.decode(ids, options),
    hasChatTemplate: typeof template === 'string' ? template.length > 0 : Boolean(template),
    applyChatTemplate: (messages) => {
      const render = (list: typeof messages) => tokenizer.apply_chat_template(list, { tokenize: false, add_generation_prompt: true });
      let out: unknown;
      try {
        out = render(messages);
      } catch {
        // Some templates (Gemma, Mistral) refuse a system role: fold it into the user turn.
        const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n');
        const rest = messages.filter((m) => m.role !== 'system');
        if (rest[0] && system) rest[0] = { ...rest[0], content: `${system}\n\n${rest[0].content}` };
        out = render(rest);
      }
      if (typeof out !== 'string') throw new StudioError('INTERNAL', 'The chat template did not render to text.');
      return out;
    },
  };
}

export async function generateText(modelDir: string, params: TextParams, { ctx, hooks, outDir }: TextRunOptions): Promise<RunResult> {
  const { entry, started, loadedAt } = await loadForRun(hooks, params.maxNewTokens, () => loadTextModel(ctx, modelDir));

  const maxNewTokens = Math.min(params.maxNewTokens, Math.max(1, entry.contextLength - 8));
  const inputBudget = Math.max(8, entry.contextLength - maxNewTokens);
  const prompt = buildPrompt(promptTokenizer(entry.tokenizer), params, inputBudget);
  const inputs = entry.tokenizer(prompt.text, { add_special_tokens: !prompt.chat });
  const inputIds: Tensor = inputs.input_ids;
  const promptTokens = inputIds.dims.at(-1) ?? 0;

  const greedy = params.temperature === 0;
  const seed = greedy ? null : seedSampler(params.seed);

  const generatedIds: bigint[] = [];
  const stream = new TokenStream(hooks, maxNewTokens);
  const streamer = new TextStreamer(entry.tokenizer, {
    skip_prompt: true,
    skip_special_tokens: true,
    token_callback_function: (tokens) => {
      generatedIds.push(...tokens);
      stream.counted(tokens.length);
    },
    callback_function: (text) => stream.text(text),
  });

  const logitsProcessor = new LogitsProcessorList();
  if (!greedy && (params.topP < 1 || params.topK > 0)) logitsProcessor.push(new TopKTopPLogitsProcessor(params.topK, params.topP));

  const restore = guardSteps(entry.model, hooks.signal);
  const generateStarted = performance.now();
  try {
    await entry.model.generate({
      ...inputs,
      max_new_tokens: maxNewTokens,
      do_sample: !greedy,
      temperature: greedy ? 1 : params.temperature,
      top_k: greedy ? 0 : params.topK,
      repetition_penalty: params.repetitionPenalty,
      streamer,
      logits_processor: logitsProcessor,
    });
    stream.flush();
  } finally {
    restore();
    stream.stopTimer();
  }
  if (hooks.signal.aborted) throw cancelled();
  const finished = performance.now();
  const text = entry.tokenizer.decode(generatedIds, { skip_special_tokens: true });
  const meta = { promptTokens, contextLength: entry.contextLength, trimmedPrompt: prompt.trimmed, chatTemplate: prompt.chat, dtype: entry.dtype, maxNewTokens };
  return stream.result(outDir, { text, seed, provider: entry.provider, providerNote: entry.providerNote, meta }, { started, loadedAt, generateStarted, finished });
}

/** Drops cached text models for a folder (or all). */
export function unloadTextModels(ctx: EngineContext, modelDir?: string): Promise<string[]> {
  return textModels.unload(ctx, modelDir);
}
