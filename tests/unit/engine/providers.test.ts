import { describe, expect, it } from 'vitest';
import { describeProviderFailure, fallbackNote, providerChain, ProviderRegistry } from '../../../src/engine/runtime/providers';
import { withProviderChain } from '../../../src/engine/runtime/sessions';
import type { ProviderName } from '../../../src/shared/engine-protocol';
import { StudioError } from '../../../src/shared/errors';

describe('provider chain', () => {
  it('puts the platform GPU provider first, WebGPU next and CPU last for auto', () => {
    expect(providerChain('auto', 'linux', 'x64')).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(providerChain('auto', 'win32', 'x64')).toEqual(['dml', 'webgpu', 'cpu']);
    expect(providerChain('auto', 'darwin', 'arm64')).toEqual(['coreml', 'webgpu', 'cpu']);
    expect(providerChain('auto', 'linux', 'arm64')).toEqual(['cpu']);
  });

  it('tries only the provider forced in Settings, with no CPU behind it', () => {
    expect(providerChain('cuda', 'linux', 'x64')).toEqual(['cuda']);
    expect(providerChain('webgpu', 'win32', 'x64')).toEqual(['webgpu']);
    expect(providerChain('cpu', 'linux', 'x64')).toEqual(['cpu']);
  });

  it('turns a missing CUDA library into a reason a person can act on', () => {
    const reason = describeProviderFailure('cuda', new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'));
    expect(reason).toMatch(/^CUDA unavailable: libonnxruntime_providers_cuda\.so missing/);
    expect(fallbackNote([reason], 'cpu')).toMatch(/; ran on CPU$/);
    expect(fallbackNote([], 'cuda')).toBeUndefined();
  });

  it('probes each provider once and caches the reason of a failure', async () => {
    const calls: ProviderName[] = [];
    const registry = new ProviderRegistry(
      async (name) => {
        calls.push(name);
        if (name === 'cuda') throw new Error('Failed to load shared library');
      },
      'linux',
      'x64',
    );
    const first = await registry.check('cuda');
    const second = await registry.check('cuda');
    expect(first).toEqual(second);
    expect(first.available).toBe(false);
    expect(first.reason).toMatch(/CUDA unavailable/);
    expect(calls.filter((n) => n === 'cuda')).toHaveLength(1);
    const all = await registry.statusAll();
    expect(all.find((s) => s.name === 'dml')).toMatchObject({ available: false, supported: false, reason: expect.stringMatching(/DirectML/) });
    expect(all.find((s) => s.name === 'cpu')).toEqual({ name: 'cpu', available: true, supported: true });
  });

  it('falls back to CPU keeping the reasons when the automatic chain cannot create a session on the GPU', async () => {
    const registry = new ProviderRegistry(async () => {}, 'linux', 'x64');
    const result = await withProviderChain(
      registry,
      { provider: 'auto', intraOpThreads: 0, memoryBudgetMb: 0 },
      async (provider) => {
        if (provider !== 'cpu') throw new Error(`${provider} failure: out of memory`);
        return provider;
      },
      'test model',
    );
    expect(result.value).toBe('cpu');
    expect(result.provider).toBe('cpu');
    // WebGPU's reason depends on whether this onnxruntime build has it; CUDA's and the outcome do not.
    expect(result.providerNote).toMatch(/^CUDA unavailable: cuda failure: out of memory; .*ran on CPU$/);
  });

  it('fails with the reason, never on the CPU, when the provider forced in Settings cannot create a session', async () => {
    const registry = new ProviderRegistry(async () => {}, 'linux', 'x64');
    const tried: ProviderName[] = [];
    const attempt = withProviderChain(
      registry,
      { provider: 'cuda', intraOpThreads: 0, memoryBudgetMb: 0 },
      async (provider) => {
        tried.push(provider);
        if (provider === 'cuda') throw new Error('CUDA failure: out of memory');
        return provider;
      },
      'The model file /x/model.onnx',
    );
    await expect(attempt).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof StudioError &&
        e.code === 'PROVIDER_UNAVAILABLE' &&
        e.message.includes('CUDA unavailable: CUDA failure: out of memory') &&
        e.message.includes('Settings → Performance → Execution provider'),
    );
    expect(tried).toEqual(['cuda']);
  });

  it('fails with the probe reason when the forced provider is not available at all', async () => {
    const registry = new ProviderRegistry(async (name) => {
      if (name === 'cuda') throw new Error('Failed to load shared library');
    }, 'linux', 'x64');
    const tried: ProviderName[] = [];
    const attempt = withProviderChain(
      registry,
      { provider: 'cuda', intraOpThreads: 0, memoryBudgetMb: 0 },
      async (provider) => {
        tried.push(provider);
        return provider;
      },
      'The model file /x/model.onnx',
    );
    await expect(attempt).rejects.toSatisfy((e: unknown) => e instanceof StudioError && e.code === 'PROVIDER_UNAVAILABLE' && /libonnxruntime_providers_cuda\.so missing/.test(e.message));
    expect(tried).toEqual([]);
  });

  it('does not blame the provider when the model itself cannot be parsed', async () => {
    const registry = new ProviderRegistry(async () => {}, 'linux', 'x64');
    const attempt = withProviderChain(
      registry,
      { provider: 'auto', intraOpThreads: 0, memoryBudgetMb: 0 },
      async () => {
        throw new Error('Load model from /x/model.onnx failed:Protobuf parsing failed.');
      },
      'The model file /x/model.onnx',
    );
    await expect(attempt).rejects.toSatisfy((e: unknown) => e instanceof StudioError && e.code === 'MODEL_INVALID' && e.message.includes('/x/model.onnx'));
  });

  it('reports CUDA unavailable on this machine without crashing (real onnxruntime probe)', async () => {
    const registry = new ProviderRegistry();
    const cpu = await registry.check('cpu');
    expect(cpu.available).toBe(true);
    const cuda = await registry.check('cuda');
    if (process.platform === 'linux' && process.arch === 'x64' && !cuda.available) {
      expect(cuda.reason).toMatch(/^CUDA unavailable: /);
    }
  });
});
