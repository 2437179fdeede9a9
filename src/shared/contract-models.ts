import { z } from 'zod';
import { ModelKind, RecommendedImageSettings } from './params';
import { ErrorShape } from './error-shape';

/**
 * The model manager's side of the IPC contract (contract.ts re-exports it): the catalog as the
 * Models view shows it, GGUF quantisations, OpenAI-compatible servers, downloads, and the kinds an
 * embedding model makes searchable by meaning.
 */

/** Which items an embedding model lets Atelier search by meaning. */
export const SearchableKind = z.enum(['image', 'text', 'music']);
export type SearchableKind = z.infer<typeof SearchableKind>;

export const CatalogItem = z.object({
  id: z.string(),
  kind: ModelKind,
  /** Embedding models: the kinds of item they index for search by meaning. */
  embeds: z.array(SearchableKind).optional(),
  repo: z.string(),
  revision: z.string(),
  verified: z.boolean(),
  verificationNote: z.string().optional(),
  title: z.string(),
  goodFor: z.string(),
  licence: z.object({ id: z.string(), url: z.string() }),
  hardware: z.string(),
  /** 'gguf': one file per quantisation, picked from the hub's list (models.ggufQuants); dtypes then hold approximate sizes per quantisation. */
  format: z.enum(['onnx', 'gguf']),
  defaultDtype: z.string(),
  dtypes: z.record(z.string(), z.object({ approxBytes: z.number() })),
  /** Set when this catalog entry is already installed. */
  installedId: z.string().nullable(),
  /** Image settings the model is made for, applied when it is picked. */
  recommended: RecommendedImageSettings.optional(),
});
export type CatalogItem = z.infer<typeof CatalogItem>;

/** One GGUF quantisation of a hub repository (see main/models/gguf-quants.ts). */
export const GgufQuant = z.object({
  /** Q4_K_M, Q8_0, F16, … (upper case), or the file's stem when it names none. */
  quant: z.string(),
  /** Repository path of the file (of the first part, for a split model). */
  file: z.string(),
  bytes: z.number(),
  parts: z.number().int().positive(),
  supported: z.boolean(),
  /** Why it cannot be downloaded (a split model). */
  reason: z.string().optional(),
});
export type GgufQuant = z.infer<typeof GgufQuant>;
export const GgufQuantList = z.object({ quants: z.array(GgufQuant), defaultFile: z.string().nullable() });
export type GgufQuantList = z.infer<typeof GgufQuantList>;

/** An OpenAI-compatible text server: plain http only to loopback or private addresses, and only when allowHttp confirms it. */
export const RemoteEndpoint = z.strictObject({
  baseUrl: z.string().trim().min(1).max(2000),
  apiKey: z.string().trim().max(400).optional(),
  allowHttp: z.boolean().default(false),
});

export const DownloadState = z.object({
  id: z.string(),
  repo: z.string(),
  revision: z.string(),
  status: z.enum(['queued', 'downloading', 'paused', 'verifying', 'done', 'failed', 'cancelled']),
  bytesDone: z.number(),
  bytesTotal: z.number(),
  rate: z.number(),
  etaMs: z.number().nullable(),
  error: ErrorShape.optional(),
});
export type DownloadState = z.infer<typeof DownloadState>;
