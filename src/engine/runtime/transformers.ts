import path from 'node:path';
import { AutoTokenizer, env, type DataType, type DeviceType, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { EngineOptions, ProviderName } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import { inspectModelDir, onnxVariants } from './layout';
import { checkModelFile } from './model-files';
import type { ProviderRegistry } from './providers';
import { resolveThreads, withProviderChain } from './sessions';

/**
 * transformers.js glue: local files only (nothing leaves the machine), an explicit device per
 * attempt (never 'auto', which fails hard instead of falling back), and a dtype chosen from the
 * ONNX files the folder actually has.
 */
let configured = false;
export function configureTransformers(): void {
  if (configured) return;
  configured = true;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = '';
  env.useFSCache = false;
  env.useBrowserCache = false;
}

const SUFFIX_TO_DTYPE: Record<string, DataType> = {
  '': 'fp32',
  _fp16: 'fp16',
  _quantized: 'q8',
  _int8: 'int8',
  _uint8: 'uint8',
  _q4: 'q4',
  _q4f16: 'q4f16',
  _bnb4: 'bnb4',
};

/** Preference order per provider: full precision first on CPU, half precision first on GPUs. */
const CPU_ORDER: DataType[] = ['fp32', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'fp16', 'q4f16'];
const GPU_ORDER: DataType[] = ['fp16', 'q4f16', 'fp32', 'q4', 'q8', 'int8', 'uint8', 'bnb4'];

export interface DtypeChoice {
  dtype: DataType;
  file: string;
}

/** Picks the dtype for `stem` (e.g. 'onnx/model') from the files present in `dir`. */
export function chooseDtype(dir: string, stem: string, provider: ProviderName): DtypeChoice {
  const present = onnxVariants(dir, stem);
  const byDtype = new Map<DataType, string>();
  for (const file of present) {
    const suffix = file.slice(stem.length, -'.onnx'.length);
    const dtype = SUFFIX_TO_DTYPE[suffix];
    if (dtype) byDtype.set(dtype, file);
  }
  for (const dtype of provider === 'cpu' ? CPU_ORDER : GPU_ORDER) {
    const file = byDtype.get(dtype);
    if (file) return { dtype, file: path.join(dir, file) };
  }
  throw new StudioError(
    'MODEL_INVALID',
    `${path.join(dir, `${stem}.onnx`)} is missing: the folder has no ONNX weights for ${path.basename(stem)} (looked for ${stem}.onnx and its _quantized/_q4/_fp16 variants). Download the model again.`,
  );
}

export interface DeviceLoad<T> {
  value: T;
  provider: ProviderName;
  providerNote?: string;
  dtypes: Record<string, DataType>;
  bytes: number;
}

/**
 * Loads a transformers.js model on the first provider of the chain that works. Files are checked
 * (exists, non-empty, parsable) before transformers.js sees them, so a corrupt download is a
 * MODEL_INVALID error naming the file rather than a protobuf stack trace.
 */
export async function loadOnDeviceChain<T>(
  registry: ProviderRegistry,
  options: EngineOptions,
  dir: string,
  stems: Record<string, string>,
  load: (device: DeviceType, dtype: Record<string, DataType>, sessionOptions: { intraOpNumThreads: number; logSeverityLevel: 3 }) => Promise<T>,
): Promise<DeviceLoad<T>> {
  configureTransformers();
  let dtypes: Record<string, DataType> = {};
  let bytes = 0;
  const attempt = await withProviderChain(
    registry,
    options,
    async (provider) => {
      dtypes = {};
      bytes = 0;
      for (const [session, stem] of Object.entries(stems)) {
        const choice = chooseDtype(dir, stem, provider);
        const facts = await checkModelFile(choice.file);
        bytes += facts.bytes + facts.externalBytes;
        dtypes[session] = choice.dtype;
      }
      return load(provider, dtypes, { intraOpNumThreads: resolveThreads(options), logSeverityLevel: 3 });
    },
    `The model in ${dir}`,
  );
  return { value: attempt.value, provider: attempt.provider, providerNote: attempt.providerNote, dtypes, bytes };
}

/**
 * The tokenizer of a model folder, after checking that the folder is a valid model of `kind`
 * (text and music pipelines load the same way). MODEL_INVALID names what is wrong: the folder's
 * problems, that it is another kind of model (`notThis` says what was expected), or a tokenizer
 * that does not load.
 */
export async function openTokenizerFolder(dir: string, kind: 'text' | 'music', notThis: string): Promise<PreTrainedTokenizer> {
  const inspection = inspectModelDir(dir);
  if (inspection.kind !== kind || !inspection.ok) {
    const what = inspection.kind === kind ? inspection.problems.join('; ') : `${notThis} (${inspection.problems.join('; ') || `it looks like a ${inspection.kind} model`})`;
    throw new StudioError('MODEL_INVALID', `${dir}: ${what}`);
  }
  try {
    return await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  } catch (error) {
    throw new StudioError('MODEL_INVALID', `The tokenizer in ${dir} could not be loaded (${error instanceof Error ? error.message : String(error)}). Download tokenizer.json and tokenizer_config.json again.`);
  }
}
