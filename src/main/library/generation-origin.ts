import type { Generation } from '../../shared/contract';

/** What made a generation and from what: the fields its record, its exported provenance and a rebuilt row all carry. */
export type GenerationOrigin = Pick<Generation, 'id' | 'kind' | 'model' | 'modelDigest' | 'prompt' | 'negativePrompt' | 'seed'>;

/** Those fields of `g`, in the order records and provenance write them. */
export function originOf(g: GenerationOrigin): GenerationOrigin {
  return { id: g.id, kind: g.kind, model: g.model, modelDigest: g.modelDigest, prompt: g.prompt, negativePrompt: g.negativePrompt, seed: g.seed };
}
