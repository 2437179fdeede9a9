import type { StudioErrorShape } from './errors';
import type { GenerationKind, ImageParams, ModelKind, MusicParams, TextParams } from './params';
import type { UpscaleParams } from './upscale';

/**
 * The typed protocol between the main process and the engine process. Requests carry a sequence
 * number; every request gets exactly one `reply` with the same seq. Streaming messages (progress,
 * token, preview) carry the job id. Binary data never travels here: outputs are files the engine
 * writes into a staging folder given by main, which main then moves into the content-addressed store.
 */
export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
export type ProviderPreference = 'auto' | ProviderName;
/** What llama.cpp (GGUF models) runs on; recorded on each generation like the ONNX providers. */
export type LlamaProviderName = 'cpu' | 'cuda' | 'vulkan' | 'metal';

export interface EngineOptions {
  provider: ProviderPreference;
  /** 0 = pick from the machine's cores. */
  intraOpThreads: number;
  memoryBudgetMb: number;
  /** llama.cpp (GGUF models): context window in tokens; 0 or absent = the model's, up to 4096. */
  llamaContextSize?: number;
  /** llama.cpp: layers offloaded to the GPU; -1 or absent = as many as fit. */
  llamaGpuLayers?: number;
  /** API keys of OpenAI-compatible servers, by origin (https://host:port): each is sent only to its own origin. Never in replies. */
  remoteApiKeys?: Record<string, string>;
}

export type RunParams =
  | { kind: 'text'; params: TextParams }
  | { kind: 'image'; params: ImageParams; initImagePath?: string; maskImagePath?: string }
  | { kind: 'music'; params: MusicParams; extendFromPath?: string }
  /** An image job in upscale mode: the source picture through a super-resolution model; TF.js models are converted into cacheDir. */
  | { kind: 'upscale'; params: UpscaleParams; sourcePath: string; cacheDir: string };

/** What to embed: a text, a picture file or a WAV file (absolute paths the engine can read). */
export type EmbedInput = { type: 'text'; text: string } | { type: 'image'; path: string } | { type: 'audio'; path: string };
/** 'clip' embeds pictures and text in one space, 'clap' audio and text; 'text' embeds text only. */
export type EmbeddingFamily = 'clip' | 'clap' | 'text';

export interface EmbedResult {
  family: EmbeddingFamily;
  dim: number;
  /** One L2-normalised vector per input, in order. */
  vectors: number[][];
  provider: ProviderName;
}

export type EngineRequest =
  | { seq: number; type: 'configure'; options: EngineOptions }
  | { seq: number; type: 'info' }
  | { seq: number; type: 'inspect'; modelDir: string }
  /** Loads a super-resolution model folder (ONNX or TF.js) and probes it: UpscaleModelSummary, or MODEL_INVALID with the reason. */
  | { seq: number; type: 'inspectUpscale'; modelDir: string; cacheDir: string }
  | { seq: number; type: 'load'; kind: GenerationKind; modelDir: string }
  | { seq: number; type: 'unload'; modelDir?: string }
  | { seq: number; type: 'run'; jobId: string; modelDir: string; outDir: string; run: RunParams }
  | { seq: number; type: 'embed'; modelDir: string; inputs: EmbedInput[] }
  | { seq: number; type: 'cancel'; jobId: string }
  | { seq: number; type: 'status' };

export type EngineRequestBody = EngineRequest extends infer R ? (R extends { seq: number } ? Omit<R, 'seq'> : never) : never;

export interface ProviderStatus {
  name: ProviderName;
  available: boolean;
  reason?: string;
  /** False where onnxruntime-node has no such provider for this platform at all (DirectML on Linux). */
  supported?: boolean;
}

export interface EngineInfo {
  pid: number;
  platform: string;
  arch: string;
  onnxruntime: string;
  transformers: string;
  providers: ProviderStatus[];
  /** The chain the engine will try, in order, for the current preference. */
  chain: ProviderName[];
  intraOpThreads: number;
}

export interface ModelInspection {
  kind: ModelKind | 'unknown';
  ok: boolean;
  /** What is missing or wrong, each phrased so a person can act on it. */
  problems: string[];
  files: { path: string; bytes: number }[];
  totalBytes: number;
  architecture?: string;
}

export interface OutputFile {
  /** Absolute path of a file the engine wrote inside the run's outDir. */
  path: string;
  mime: string;
  role: 'image' | 'audio' | 'text' | 'thumbnail' | 'peaks' | 'mask';
  width?: number;
  height?: number;
  durationMs?: number;
  /** Seed that produced this output (image batch items and music variations each have one). */
  seed?: number;
}

export interface RunResult {
  outputs: OutputFile[];
  text?: string;
  tokens?: number;
  seed: number | null;
  /** The provider that ran the model, or 'none' when no model ran (img2img at strength 0). */
  provider: ProviderName | LlamaProviderName | 'remote' | 'none';
  /** Why the provider differs from the one asked for, or why none ran. */
  providerNote?: string;
  modelDigest?: string;
  timings: Record<string, number>;
  /** Extra facts to store with the generation (sample rate, extension method, …). */
  meta?: Record<string, unknown>;
}

/** What the engine found in a super-resolution model folder. */
export interface UpscaleModelSummary {
  scale: number;
  format: 'onnx' | 'tfjs';
  inputName: string;
  outputName: string;
  inputType: 'float32' | 'float16';
  fixedSize: { width: number; height: number } | null;
  bytes: number;
}

export type EngineMessage =
  | { type: 'ready'; pid: number }
  | { type: 'reply'; seq: number; ok: true; value: unknown }
  | { type: 'reply'; seq: number; ok: false; error: StudioErrorShape }
  | { type: 'progress'; jobId: string; step: number; totalSteps: number; message?: string }
  | { type: 'token'; jobId: string; text: string; tokens: number }
  | { type: 'preview'; jobId: string; step: number; dataUrl: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

/** What a pipeline receives besides its params: how to report, and how to learn it was cancelled. */
export interface RunHooks {
  signal: AbortSignal;
  onProgress(step: number, totalSteps: number, message?: string): void;
  onToken?(text: string, tokens: number): void;
  onPreview?(step: number, dataUrl: string): void;
}
