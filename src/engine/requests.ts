import { z } from 'zod';
import { GenerationKind, ImageParams, MusicParams, TextParams } from '../shared/params';
import { UpscaleParams } from '../shared/upscale';

/**
 * Runtime validation of what arrives from the main process. The protocol types in
 * src/shared/engine-protocol.ts are the contract; these schemas check it at the boundary, and
 * parsing the generation params also fills in their defaults.
 */
const seq = z.number().int().min(0);
const dir = z.string().min(1).max(4096);
const jobId = z.string().min(1).max(200);

export const EngineOptionsSchema = z.strictObject({
  provider: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu']),
  intraOpThreads: z.number().int().min(0).max(1024),
  memoryBudgetMb: z.number().min(0).max(16 * 1024 * 1024),
  llamaContextSize: z.number().int().min(0).max(1_048_576).optional(),
  llamaGpuLayers: z.number().int().min(-1).max(10_000).optional(),
  remoteApiKeys: z.record(z.string().max(300), z.string().max(400)).optional(),
});

export const RunParamsSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('text'), params: TextParams }),
  z.strictObject({ kind: z.literal('image'), params: ImageParams, initImagePath: dir.optional(), maskImagePath: dir.optional() }),
  z.strictObject({ kind: z.literal('music'), params: MusicParams, extendFromPath: dir.optional() }),
  z.strictObject({ kind: z.literal('upscale'), params: UpscaleParams, sourcePath: dir, cacheDir: dir }),
]);

export const EngineRequestSchema = z.discriminatedUnion('type', [
  z.strictObject({ seq, type: z.literal('configure'), options: EngineOptionsSchema }),
  z.strictObject({ seq, type: z.literal('info') }),
  z.strictObject({ seq, type: z.literal('inspect'), modelDir: dir }),
  z.strictObject({ seq, type: z.literal('inspectUpscale'), modelDir: dir, cacheDir: dir }),
  z.strictObject({ seq, type: z.literal('load'), kind: GenerationKind, modelDir: dir }),
  z.strictObject({ seq, type: z.literal('unload'), modelDir: dir.optional() }),
  z.strictObject({ seq, type: z.literal('run'), jobId, modelDir: dir, outDir: dir, run: RunParamsSchema }),
  z.strictObject({
    seq,
    type: z.literal('embed'),
    modelDir: dir,
    inputs: z
      .array(
        z.discriminatedUnion('type', [
          z.strictObject({ type: z.literal('text'), text: z.string().max(20000) }),
          z.strictObject({ type: z.literal('image'), path: dir }),
          z.strictObject({ type: z.literal('audio'), path: dir }),
        ]),
      )
      .max(256),
  }),
  z.strictObject({ seq, type: z.literal('cancel'), jobId }),
  z.strictObject({ seq, type: z.literal('status') }),
]);
export type ValidRequest = z.infer<typeof EngineRequestSchema>;

/** The seq of a message that failed validation, when it has a usable one. */
export function seqOf(message: unknown): number | null {
  if (message && typeof message === 'object' && 'seq' in message) {
    const value = (message as { seq: unknown }).seq;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  }
  return null;
}

/** "run.params.steps: Too big: expected number to be <=150" — one line per issue. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'message'}: ${issue.message}`)
    .join('; ');
}
