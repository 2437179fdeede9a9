import { describe, expect, it } from 'vitest';
import type { EngineMessage } from '../../../src/shared/engine-protocol';
import { StudioError } from '../../../src/shared/errors';
import { createEngineContext } from '../../../src/engine/runtime/context';
import { describeRunFailure } from '../../../src/engine/runtime/run-failures';
import { EngineServer, type Runners } from '../../../src/engine/server';
import { params } from './image/helpers';

// Messages as onnxruntime-node reports them (first line is what matters).
const BFC_ARENA =
  "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running Conv node. Name:'/conv_in/Conv' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate memory for requested buffer of size 2147483648";
const CUDA_OOM = '[ONNXRuntimeError] : 1 : FAIL : CUDA failure 2: out of memory ; GPU=0 ; hostname=x ; file=cuda_allocator.cc ; line=47 ; expr=cudaMalloc((void**)&p, size);';
const BAD_DIMS = '[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions for input: sample for the following indices\n index: 1 Got: 4 Expected: 9';

describe('describeRunFailure', () => {
  it('turns allocation failures into OUT_OF_MEMORY with what to try, keeping the runtime message', () => {
    for (const message of [BFC_ARENA, CUDA_OOM, 'std::bad_alloc']) {
      const error = describeRunFailure(new Error(message), { kind: 'image', size: '1024×1024, batch 2' });
      expect(error?.code).toBe('OUT_OF_MEMORY');
      expect(error?.message).toMatch(/^The image generation ran out of memory \(1024×1024, batch 2\)\. Try a smaller size or batch/);
      expect(error?.message).toContain(message.slice(0, 60));
      expect(error?.message).toContain(message.slice(-40));
    }
  });

  it('calls input mismatches MODEL_INVALID, passes StudioErrors through and leaves the rest alone', () => {
    expect(describeRunFailure(new Error(BAD_DIMS), { kind: 'image' })?.code).toBe('MODEL_INVALID');
    const cancelled = new StudioError('CANCELLED', 'stopped');
    expect(describeRunFailure(cancelled, { kind: 'text' })).toBe(cancelled);
    expect(describeRunFailure(new Error('something unexpected'), { kind: 'music' })).toBeNull();
  });
});

describe('EngineServer run failures', () => {
  it('replies OUT_OF_MEMORY (not INTERNAL) when a pipeline runs out of memory, and keeps serving', async () => {
    const sent: EngineMessage[] = [];
    let calls = 0;
    const runners: Runners = {
      text: () => Promise.reject(new Error('unused')),
      music: () => Promise.reject(new Error('unused')),
      upscale: () => Promise.reject(new Error('unused')),
      image: async () => {
        calls++;
        if (calls === 1) throw new Error(BFC_ARENA);
        throw new Error('a different failure');
      },
    };
    const server = new EngineServer((m) => sent.push(m), createEngineContext(), runners);
    const replyTo = async (seq: number) => {
      await expect.poll(() => sent.some((m) => m.type === 'reply' && m.seq === seq)).toBe(true);
      return sent.find((m) => m.type === 'reply' && m.seq === seq) as Extract<EngineMessage, { type: 'reply' }>;
    };
    const run = (seq: number) => server.handle({ seq, type: 'run', jobId: `job-${seq}`, modelDir: '/models/x', outDir: '/tmp/out', run: { kind: 'image', params: params({ width: 768, height: 512, batch: 2 }) } });
    run(1);
    const first = await replyTo(1);
    expect(first.ok).toBe(false);
    expect(first.ok === false && first.error).toMatchObject({ code: 'OUT_OF_MEMORY', message: expect.stringContaining('(768×512, batch 2)') });
    run(2);
    const second = await replyTo(2);
    expect(second.ok === false && second.error.code).toBe('INTERNAL');
  });
});
