import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { StudioError } from '../../shared/errors';
import { SearchableKind } from '../../shared/contract';
import { ModelKind, RecommendedImageSettings } from '../../shared/params';

export const Dtype = z.enum(['fp32', 'fp16', 'q8', 'q4', 'q4f16']);
export type Dtype = z.infer<typeof Dtype>;

const DtypeFiles = z.strictObject({
  /** Glob patterns (see glob.ts) of the weight files this dtype needs, on top of `common`. */
  files: z.array(z.string().min(1)).min(1),
  /** Approximate download size; exact sizes come from the tree API at pull time. */
  approxBytes: z.number().int().positive(),
});

const EntryBase = {
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
  revision: z.string().min(1),
  /** False until someone pinned the revision and checked files and sizes against the hub. */
  verified: z.boolean(),
  verificationNote: z.string().optional(),
  title: z.string(),
  goodFor: z.string(),
  licence: z.strictObject({ id: z.string(), url: z.string().url() }),
  hardware: z.string(),
};

export const OnnxCatalogEntry = z.strictObject({
  ...EntryBase,
  format: z.literal('onnx').default('onnx'),
  kind: ModelKind,
  /** Embedding models (and only they): the kinds of item they index for search by meaning. */
  embeds: z.array(SearchableKind).min(1).optional(),
  /** Files every dtype needs (configs, tokenizer). */
  common: z.array(z.string().min(1)),
  defaultDtype: Dtype,
  dtypes: z.partialRecord(Dtype, DtypeFiles),
  /** Image settings the model is made for (SD-Turbo: 1 step, no guidance), applied when it is picked. */
  recommended: RecommendedImageSettings.optional(),
})
  .refine((e) => e.dtypes[e.defaultDtype] !== undefined, { message: 'defaultDtype must be one of dtypes' })
  .refine((e) => (e.kind === 'embedding') === (e.embeds !== undefined), { message: 'an embedding model says what it embeds (embeds), and only an embedding model does' });
export type OnnxCatalogEntry = z.infer<typeof OnnxCatalogEntry>;

/**
 * A GGUF repository (llama.cpp): one file per quantisation. The files are listed from the hub's
 * tree when a person picks one (gguf-quants.ts); `quants` only gives approximate sizes to show first.
 */
export const GgufCatalogEntry = z.strictObject({
  ...EntryBase,
  format: z.literal('gguf'),
  kind: z.literal('text'),
  defaultQuant: z.string().regex(/^[A-Z0-9_]+$/),
  quants: z.record(z.string().regex(/^[A-Z0-9_]+$/), z.strictObject({ approxBytes: z.number().int().positive() })),
}).refine((e) => e.quants[e.defaultQuant] !== undefined, { message: 'defaultQuant must be one of quants' });
export type GgufCatalogEntry = z.infer<typeof GgufCatalogEntry>;

export const CatalogEntry = z.union([GgufCatalogEntry, OnnxCatalogEntry]);
export type CatalogEntry = z.infer<typeof CatalogEntry>;

export const Catalog = z.strictObject({
  version: z.literal(1),
  note: z.string().optional(),
  models: z.array(CatalogEntry),
});
export type Catalog = z.infer<typeof Catalog>;

/** Parses catalog JSON (already read); throws INTERNAL naming the first problem. */
export function parseCatalog(json: unknown): Catalog {
  const result = Catalog.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new StudioError('INTERNAL', `The model catalog is malformed at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'unknown problem'}`);
  }
  const ids = new Set<string>();
  for (const m of result.data.models) {
    if (ids.has(m.id)) throw new StudioError('INTERNAL', `The model catalog lists "${m.id}" twice.`);
    ids.add(m.id);
  }
  return result.data;
}

export function loadCatalog(file: string): Catalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new StudioError('INTERNAL', `The model catalog ${file} could not be read; reinstall Atelier.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StudioError('INTERNAL', `The model catalog ${file} is not valid JSON; reinstall Atelier.`);
  }
  return parseCatalog(json);
}

export function findCatalogEntry(catalog: Catalog, repoOrId: string): CatalogEntry | undefined {
  const lower = repoOrId.toLowerCase();
  return catalog.models.find((m) => m.id === lower || m.repo.toLowerCase() === lower);
}

/** The glob patterns to pull for a dtype: common files plus that dtype's weights. */
export function patternsFor(entry: CatalogEntry, dtype?: Dtype): string[] {
  if (entry.format === 'gguf') throw new StudioError('INVALID_INPUT', `${entry.title} is a GGUF model: pick a quantisation (${Object.keys(entry.quants).join(', ')}) instead of a dtype.`);
  const chosen = dtype ?? entry.defaultDtype;
  const files = entry.dtypes[chosen];
  if (!files) {
    throw new StudioError('INVALID_INPUT', `${entry.title} has no ${chosen} variant; choose one of ${Object.keys(entry.dtypes).join(', ')}.`);
  }
  return [...entry.common, ...files.files];
}
