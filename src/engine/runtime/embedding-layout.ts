/**
 * Embedding models (search by meaning) in transformers.js layout, told apart from the generators
 * that share config.json: CLIP (pictures and text in one space), CLAP (music and text) and
 * sentence embedders (encoder-only text models such as all-MiniLM-L6-v2). Their kind is
 * 'embedding', so no generation picker lists them.
 */

/** Encoder-only text models: they embed, they do not write. */
const SENTENCE_ENCODERS = new Set(['bert', 'roberta', 'xlm-roberta', 'mpnet', 'distilbert', 'nomic_bert', 'electra', 'deberta-v2', 'modernbert']);

export type EmbeddingLayout = 'clip' | 'clap' | 'sentence';

/** Which embedding layout a config describes, or null for a model that generates. */
export function embeddingLayoutOf(modelType: unknown, architecture: string | undefined): EmbeddingLayout | null {
  if (modelType === 'clip' || modelType === 'siglip') return 'clip';
  if (modelType === 'clap') return 'clap';
  if (typeof modelType !== 'string' || !SENTENCE_ENCODERS.has(modelType)) return null;
  // A masked-LM or classifier head is not what a sentence embedder ships.
  return architecture && /For(MaskedLM|SequenceClassification|TokenClassification|QuestionAnswering)$/.test(architecture) ? null : 'sentence';
}

/** What an embedding folder misses, in words a person can act on. `hasStem` says whether any ONNX variant of a stem is there. */
export function embeddingProblems(layout: EmbeddingLayout, files: Set<string>, hasStem: (stem: string) => boolean): string[] {
  const what = { clip: 'a CLIP embedding model', clap: 'a CLAP embedding model', sentence: 'a sentence-embedding model' }[layout];
  const looks = `the folder looks like ${what} in transformers.js layout`;
  const needed: [string, string][] =
    layout === 'clip'
      ? [['onnx/text_model', 'its text encoder'], ['onnx/vision_model', 'its picture encoder']]
      : layout === 'clap'
        ? [['onnx/text_model', 'its text encoder'], ['onnx/audio_model', 'its audio encoder']]
        : [['onnx/model', 'its encoder']];
  const problems = needed.filter(([stem]) => !hasStem(stem)).map(([stem, role]) => `${stem}.onnx is missing: ${looks} but ${role} was not downloaded`);
  if (!files.has('tokenizer.json')) problems.push(`tokenizer.json is missing: ${looks} but its tokenizer was not downloaded`);
  if (layout !== 'sentence' && !files.has('preprocessor_config.json')) problems.push(`preprocessor_config.json is missing: ${looks}; download it from the same repository`);
  return problems;
}
