import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ProviderName, ProviderPreference, ProviderStatus } from '../../shared/engine-protocol';

/**
 * Execution-provider choice. onnxruntime-node fails hard when a provider's libraries are missing
 * (and transformers.js' `device: 'auto'` inherits that), so the engine keeps its own chain:
 * the platform's GPU provider first, WebGPU where it actually works, CPU last, and every provider
 * that was skipped keeps the reason so the generation can say why it ran where it ran.
 */
export const PROVIDER_NAMES: readonly ProviderName[] = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

const LABELS: Record<ProviderName, string> = { cpu: 'CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML', webgpu: 'WebGPU' };

export function providerLabel(name: ProviderName): string {
  return LABELS[name];
}

/** The GPU provider onnxruntime-node ships for a platform (see its support table). */
export function platformGpuProvider(platform: string = process.platform, arch: string = process.arch): ProviderName | null {
  if (platform === 'linux' && arch === 'x64') return 'cuda';
  if (platform === 'win32') return 'dml';
  if (platform === 'darwin') return 'coreml';
  return null;
}

/** Whether onnxruntime-node has the provider at all on this platform (availability is probed separately). */
export function providerExistsOn(name: ProviderName, platform: string = process.platform, arch: string = process.arch): boolean {
  switch (name) {
    case 'cpu':
      return true;
    case 'cuda':
      return platform === 'linux' && arch === 'x64';
    case 'dml':
      return platform === 'win32';
    case 'coreml':
      return platform === 'darwin';
    case 'webgpu':
      return !(platform === 'linux' && arch === 'arm64');
  }
}

/**
 * The providers to try, in order, for a preference. 'auto' = platform GPU, WebGPU, CPU; a named
 * provider = that one alone: a person who forced it in Settings wants to know it cannot run, not
 * find out later from a note that the job quietly ran on the CPU.
 */
export function providerChain(preference: ProviderPreference, platform: string = process.platform, arch: string = process.arch): ProviderName[] {
  if (preference !== 'auto') return [preference];
  const chain: ProviderName[] = [];
  const gpu = platformGpuProvider(platform, arch);
  if (gpu) chain.push(gpu);
  if (providerExistsOn('webgpu', platform, arch)) chain.push('webgpu');
  chain.push('cpu');
  return chain;
}

/** The one-line reason shown to people, from whatever onnxruntime threw. */
export function describeProviderFailure(name: ProviderName, error: unknown): string {
  const raw = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
  const label = providerLabel(name);
  if (name === 'cuda' && /Failed to load shared library|libonnxruntime_providers_(cuda|shared)|cannot open shared object/i.test(raw)) {
    return `${label} unavailable: libonnxruntime_providers_cuda.so missing (install CUDA 12 + cuDNN 9 and run \`npm run cuda\`)`;
  }
  if (name === 'webgpu' && /adapter/i.test(raw)) {
    return `${label} unavailable: no WebGPU adapter on this machine (${raw.replace(/^.*?(Failed to get a WebGPU adapter[^.]*).*$/, '$1')})`;
  }
  if (/backend not found|no available backend/i.test(raw)) {
    return `${label} unavailable: this onnxruntime-node build has no ${label} provider on ${process.platform}-${process.arch}`;
  }
  return `${label} unavailable: ${raw.length > 300 ? `${raw.slice(0, 300)}…` : raw}`;
}

/** A one-node float model (Identity on float[1]) used to prove a provider can build and run a session. */
const PROBE_MODEL_BASE64 =
  'CAgSDWF0ZWxpZXItcHJvYmU6OwoQCgF4EgF5IghJZGVudGl0eRIFcHJvYmVaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAR';

export type ProviderProbe = (name: ProviderName) => Promise<void>;

/**
 * Where onnxruntime-node keeps its native libraries, or null when that cannot be told. The CUDA
 * provider is a separate library that `npm run cuda` installs next to the binding.
 */
function ortBinaryDir(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    return path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/** Builds and runs the probe model on one provider; throws what onnxruntime throws. */
export const probeWithOnnxRuntime: ProviderProbe = async (name) => {
  if (name === 'cuda' && process.platform === 'linux') {
    // Without the provider library onnxruntime would only fail, after printing a native error to
    // stderr on every start; say the same thing without the attempt.
    const dir = ortBinaryDir();
    if (dir && existsSync(dir) && !existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'))) {
      throw new Error(`cannot open shared object file: ${path.join(dir, 'libonnxruntime_providers_cuda.so')}`);
    }
  }
  const bytes = new Uint8Array(Buffer.from(PROBE_MODEL_BASE64, 'base64'));
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [name], logSeverityLevel: 4 });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([3]), [1]) });
    const value = out['y']?.data[0];
    if (value !== 3) throw new Error(`probe model returned ${String(value)} instead of 3`);
  } finally {
    await session.release();
  }
};

/** Backends onnxruntime-node was built with (names as onnxruntime spells them). */
function builtInBackends(): Set<string> {
  try {
    return new Set(ort.listSupportedBackends().map((backend) => backend.name));
  } catch {
    return new Set(['cpu']);
  }
}

/**
 * Probes each provider once (lazily) and caches the answer with its reason. Never throws: an
 * unavailable provider is a status, not an error.
 */
export class ProviderRegistry {
  private readonly cache = new Map<ProviderName, Promise<ProviderStatus>>();
  private backends: Set<string> | null = null;

  constructor(
    private readonly probe: ProviderProbe = probeWithOnnxRuntime,
    private readonly platform: string = process.platform,
    private readonly arch: string = process.arch,
  ) {}

  check(name: ProviderName): Promise<ProviderStatus> {
    let status = this.cache.get(name);
    if (!status) {
      status = this.detect(name);
      this.cache.set(name, status);
    }
    return status;
  }

  /** Status of every provider, probing only those that exist on this platform. */
  async statusAll(): Promise<ProviderStatus[]> {
    const out: ProviderStatus[] = [];
    // Sequential on purpose: GPU driver initialisation in parallel is a common source of native crashes.
    for (const name of PROVIDER_NAMES) out.push(await this.check(name));
    return out;
  }

  chain(preference: ProviderPreference): ProviderName[] {
    return providerChain(preference, this.platform, this.arch);
  }

  /** Forget what was learned (e.g. after the user installed CUDA libraries). */
  reset(): void {
    this.cache.clear();
    this.backends = null;
  }

  private async detect(name: ProviderName): Promise<ProviderStatus> {
    const label = providerLabel(name);
    if (!providerExistsOn(name, this.platform, this.arch)) {
      return { name, available: false, supported: false, reason: `${label} unavailable: onnxruntime-node has no ${label} provider on ${this.platform}-${this.arch}` };
    }
    this.backends ??= builtInBackends();
    if (name !== 'cpu' && !this.backends.has(name)) {
      return { name, available: false, supported: true, reason: `${label} unavailable: this onnxruntime-node build does not include it` };
    }
    try {
      await this.probe(name);
      return { name, available: true, supported: true };
    } catch (error) {
      return { name, available: false, supported: true, reason: describeProviderFailure(name, error) };
    }
  }
}

/** "CUDA unavailable: …; ran on CPU" — or undefined when the first choice ran. */
export function fallbackNote(skipped: string[], used: ProviderName): string | undefined {
  if (skipped.length === 0) return undefined;
  return `${skipped.join('; ')}; ran on ${providerLabel(used)}`;
}
