import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { Llama } from 'node-llama-cpp';
import type { EngineOptions, LlamaProviderName, ProviderPreference } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';

/**
 * llama.cpp through node-llama-cpp: one Llama (the native binding with its compute backend) per
 * GPU choice, loaded on first use. node-llama-cpp is an ES module, imported dynamically so the
 * CommonJS engine bundle and the ONNX-only paths never load it.
 */
export type NodeLlamaCpp = typeof import('node-llama-cpp');

let moduleLoad: Promise<NodeLlamaCpp> | null = null;

export function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  moduleLoad ??= import('node-llama-cpp');
  return moduleLoad;
}

type GpuChoice = 'auto' | 'cuda' | 'vulkan' | 'metal' | false;

export interface LlamaBackend {
  llama: Llama;
  provider: LlamaProviderName;
  /** Why the backend differs from the one asked for (or how 'auto' decided). */
  providerNote?: string;
}

/**
 * The llama.cpp GPU choice for the engine's provider setting. The ONNX-only providers have a
 * llama.cpp counterpart where one exists (Core ML → Metal, DirectML → Vulkan, WebGPU → auto).
 */
export function gpuChoiceFor(preference: ProviderPreference): { gpu: GpuChoice; note?: string } {
  switch (preference) {
    case 'cpu':
      return { gpu: false };
    case 'cuda':
      return { gpu: 'cuda' };
    case 'auto':
      return { gpu: 'auto' };
    case 'coreml':
      return { gpu: 'metal', note: 'llama.cpp has no Core ML backend; Metal was used for this GGUF model' };
    case 'dml':
      return { gpu: 'vulkan', note: 'llama.cpp has no DirectML backend; Vulkan was used for this GGUF model' };
    case 'webgpu':
      return { gpu: 'auto', note: 'llama.cpp has no WebGPU backend; the best available GPU backend was used for this GGUF model' };
  }
}

function providerOf(gpu: Llama['gpu']): LlamaProviderName {
  return gpu === false ? 'cpu' : gpu;
}

const backends = new Map<string, Promise<LlamaBackend>>();

const NEEDS: Record<string, string> = {
  cuda: 'an NVIDIA driver and the CUDA 13 runtime (libcudart, libcublas)',
  vulkan: 'a Vulkan driver',
  metal: 'a Mac with Metal',
};

function failureReason(error: unknown, gpu: GpuChoice): string {
  const message = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  if (/NoBinaryFound/i.test(message) && typeof gpu === 'string' && NEEDS[gpu]) return `no prebuilt llama.cpp binary for ${gpu} works on this machine; it needs ${NEEDS[gpu]}`;
  return (error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error)).slice(0, 300);
}

async function openLlama(gpu: GpuChoice): Promise<Llama> {
  const { getLlama, LlamaLogLevel } = await loadNodeLlamaCpp();
  // build 'never': only the prebuilt binaries that came from npm are used; nothing is downloaded
  // or compiled at run time (an offline machine must behave like an online one).
  return getLlama({ gpu, build: 'never', usePrebuiltBinaries: true, skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error });
}

/**
 * The Llama for a provider setting. On Automatic, when no GPU backend loads (no driver, no CUDA
 * runtime), llama.cpp runs on the CPU and the reason is kept for the record.
 */
export function llamaBackend(preference: ProviderPreference): Promise<LlamaBackend> {
  const choice = gpuChoiceFor(preference);
  const key = String(choice.gpu);
  let pending = backends.get(key);
  if (!pending) {
    pending = (async (): Promise<LlamaBackend> => {
      try {
        const llama = await openLlama(choice.gpu);
        const provider = providerOf(llama.gpu);
        const note = choice.gpu === 'auto' && provider === 'cpu' ? 'no GPU backend of llama.cpp (CUDA, Vulkan, Metal) works on this machine, so the CPU was used' : choice.note;
        return { llama, provider, ...(note ? { providerNote: note } : {}) };
      } catch (error) {
        const reason = failureReason(error, choice.gpu);
        // Like the ONNX providers: Automatic falls back to the CPU and says why; a backend chosen
        // in Settings is used alone, and a job it cannot run fails with the reason.
        if (choice.gpu !== 'auto') {
          throw new StudioError('PROVIDER_UNAVAILABLE', `llama.cpp cannot use ${choice.gpu === false ? 'the CPU' : choice.gpu} here (${reason}). Set the execution provider to Automatic or CPU in Settings → Performance.`);
        }
        const llama = await openLlama(false);
        return { llama, provider: 'cpu', providerNote: `llama.cpp could not use a GPU (${reason}), so the CPU was used` };
      }
    })();
    backends.set(key, pending);
    // A failed load is not cached: the next run tries again (a driver may have been installed).
    pending.catch(() => backends.delete(key));
  }
  return pending;
}

/** Physical cores, where the OS says whether SMT doubles them (Linux); else the logical count. */
function physicalCores(): number {
  const logical = Math.max(1, os.availableParallelism());
  const smt = '/sys/devices/system/cpu/smt/active';
  try {
    if (process.platform === 'linux' && existsSync(smt) && readFileSync(smt, 'utf8').trim() === '1') return Math.max(1, Math.floor(logical / 2));
  } catch {
    // unknown: assume no SMT
  }
  return logical;
}

/**
 * Threads for llama.cpp generation. The configured number wins; otherwise one per physical core
 * minus one (left for the UI and the OS), at least 1, at most 16. Measured: with as many threads
 * as the 2 cores of a shared machine, generation was 2–40× slower than with 1, because llama.cpp's
 * threads spin-wait on each other and one preempted thread stalls every token.
 */
export function llamaThreads(options: EngineOptions): number {
  if (options.intraOpThreads > 0) return options.intraOpThreads;
  return Math.min(16, Math.max(1, physicalCores() - 1));
}
