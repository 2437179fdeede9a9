/**
 * Which file of a folder is its GGUF language model, from the names alone (LM Studio keeps one
 * folder per model). Projector files (mmproj-*.gguf) of vision models are not the language model;
 * a split model (-00001-of-00003.gguf) is named by its first part, which llama.cpp reads together
 * with the others. A transformers.js or diffusers folder is never read as GGUF, even with a stray
 * .gguf inside. The engine runs what this names; the model list labels it.
 */
export type GgufInFolder = { kind: 'file'; name: string } | { kind: 'ambiguous'; names: string[] } | { kind: 'none' };

export const GGUF_SPLIT_PART = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** Whether a file's first bytes are the GGUF magic: Ollama stores its models as blobs named by digest (sha256-…). */
export function isGgufMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46;
}

export function isGgufName(name: string): boolean {
  return name.toLowerCase().endsWith('.gguf');
}

export function ggufInFolder(names: readonly string[]): GgufInFolder {
  if (names.includes('config.json') || names.includes('model_index.json')) return { kind: 'none' };
  const models = names
    .filter((n) => isGgufName(n) && !n.toLowerCase().startsWith('mmproj') && !n.startsWith('.'))
    .filter((n) => {
      const part = GGUF_SPLIT_PART.exec(n);
      return !part || Number(part[1]) === 1;
    })
    .sort();
  if (models.length === 0) return { kind: 'none' };
  if (models.length > 1) return { kind: 'ambiguous', names: models };
  return { kind: 'file', name: models[0]! };
}
