import { z } from 'zod';
import { hubEndpointProblem } from './hub-endpoint';
import { GenerationKind, JobRequest, ModelKind } from './params';
import { UpscaleModel } from './upscale';
import { AssetCredentials, SigningIdentityInfo } from './credentials';
import { CatalogItem, DownloadState, GgufQuantList, RemoteEndpoint, SearchableKind } from './contract-models';
import { ErrorShape } from './error-shape';

export * from './contract-models';

/**
 * The whole renderer-facing API. Every call has an input and an output schema; types are inferred
 * from them, so the runtime checks and the TypeScript types cannot drift apart.
 */
const Id = z.string().min(1).max(100);
const Empty = z.strictObject({});

export const ExecutionProviderInfo = z.object({
  name: z.string(),
  available: z.boolean(),
  reason: z.string().optional(),
  /** False where this platform cannot have the provider at all (DirectML on Linux). */
  supported: z.boolean().optional(),
});

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  mode: z.enum(['electron', 'browser', 'cli']),
  versions: z.record(z.string(), z.string()),
  platform: z.string(),
  arch: z.string(),
  dataDir: z.string(),
  libraryDir: z.string(),
  modelsDir: z.string(),
  providers: z.array(ExecutionProviderInfo),
  preferredProvider: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const Settings = z.object({
  theme: z.enum(['system', 'light', 'dark']),
  provider: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu']),
  intraOpThreads: z.number().int().min(0).max(256),
  memoryBudgetMb: z.number().int().min(256).max(1_048_576),
  /** GGUF models (llama.cpp): context window in tokens, 0 = the model's (up to 4096). */
  llamaContextSize: z.number().int().min(0).max(1_048_576),
  /** GGUF models: layers offloaded to the GPU, -1 = as many as fit. */
  llamaGpuLayers: z.number().int().min(-1).max(10_000),
  hubEndpoint: z.string().url(),
  panelSizes: z.record(z.string(), z.number().min(0).max(100)),
  /** Sign exported pictures and audio with C2PA Content Credentials. */
  signExports: z.boolean(),
  /**
   * Sign each picture as it is stored in the library (a setting of its own: exports leave the
   * computer and their certificate names it, library files do not, so a person may want one only).
   */
  signLibrary: z.boolean(),
});
export type Settings = z.infer<typeof Settings>;
/** What a client may store: the hub endpoint is checked here, so no transport can point the token at plain http. */
const HubEndpoint = z.string().superRefine((value, ctx) => {
  const problem = hubEndpointProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
/** One size per panel of the app: bounded, so no client can grow the settings row without limit. */
const PanelSizes = Settings.shape.panelSizes.refine((sizes) => Object.keys(sizes).length <= 100 && Object.keys(sizes).every((key) => key.length <= 64), {
  message: 'At most 100 panel sizes, each named in 64 characters or fewer.',
});
export const SettingsPatch = Settings.extend({ hubEndpoint: HubEndpoint, panelSizes: PanelSizes }).partial().strict();

export { ErrorShape } from './error-shape';

export const AssetRef = z.object({
  id: z.string(),
  sha256: z.string(),
  mime: z.string(),
  bytes: z.number(),
  role: z.string(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  durationMs: z.number().nullable(),
});
export type AssetRef = z.infer<typeof AssetRef>;

export const Generation = z.object({
  id: z.string(),
  kind: GenerationKind,
  model: z.string(),
  modelDigest: z.string().nullable(),
  prompt: z.string(),
  negativePrompt: z.string(),
  seed: z.number().nullable(),
  params: z.record(z.string(), z.unknown()),
  parentId: z.string().nullable(),
  provider: z.string().nullable(),
  providerNote: z.string().nullable(),
  timings: z.record(z.string(), z.number()),
  outputText: z.string().nullable(),
  rating: z.number().int().min(0).max(5),
  favourite: z.boolean(),
  notes: z.string(),
  tags: z.array(z.string()),
  assets: z.array(AssetRef),
  createdAt: z.number(),
  deletedAt: z.number().nullable(),
  /**
   * Prompt adherence of a picture: CLIPScore, 100 × max(cos(image, prompt), 0), by `model`. Null
   * until the picture is indexed by meaning; absent from records written before scores existed.
   */
  adherence: z.object({ score: z.number().min(0).max(100), model: z.string() }).nullable().optional(),
  /**
   * Diversity of the batch this item was made in: mean pairwise cosine distance (0 = all alike) of
   * the `count` items' vectors by `model`. Null for an item made alone or not indexed yet.
   */
  batchDiversity: z.object({ value: z.number().min(0).max(2), model: z.string(), count: z.number().int().min(2) }).nullable().optional(),
});
export type Generation = z.infer<typeof Generation>;

export const LibraryQuery = z.strictObject({
  kind: GenerationKind.optional(),
  model: z.string().max(500).optional(),
  tag: z.string().max(100).optional(),
  /** Only items of this collection (board). */
  collectionId: Id.optional(),
  minRating: z.number().int().min(0).max(5).optional(),
  favourite: z.boolean().optional(),
  trash: z.boolean().default(false),
  sort: z.enum(['newest', 'oldest', 'rating', 'adherence']).default('newest'),
  cursor: z.string().max(200).optional(),
  limit: z.number().int().min(1).max(500).default(60),
});
export type LibraryQuery = z.input<typeof LibraryQuery>;

export const LibraryPage = z.object({
  items: z.array(Generation),
  nextCursor: z.string().nullable(),
  total: z.number(),
});
export type LibraryPage = z.infer<typeof LibraryPage>;

export const SearchQuery = z.strictObject({
  query: z.string().min(1).max(500),
  kind: GenerationKind.optional(),
  limit: z.number().int().min(1).max(500).default(60),
});

export const SearchHit = z.object({ generation: Generation, snippet: z.string() });

/** A result of search by meaning: why it is here (cosine similarity to the query, matched words, or both). */
export const MeaningHit = z.object({ generation: Generation, snippet: z.string(), similarity: z.number().nullable(), words: z.boolean() });
export type MeaningHit = z.infer<typeof MeaningHit>;
export const MeaningResult = z.object({ items: z.array(MeaningHit) });

/** The index behind search by meaning: per kind, the model chosen and how many items have a vector. */
export const MeaningStatus = z.object({
  kinds: z.array(z.object({ kind: z.enum(['image', 'text', 'music']), model: z.string().nullable(), indexed: z.number(), total: z.number() })),
  running: z.boolean(),
  paused: z.boolean(),
  /** Items the last run could not index (a picture missing or unreadable); tried again on the next run. */
  skipped: z.array(z.object({ id: z.string(), reason: z.string() })).max(100),
  error: ErrorShape.nullable(),
});
export type MeaningStatus = z.infer<typeof MeaningStatus>;
export const SearchResult = z.object({ items: z.array(SearchHit) });

export const DocumentSummary = z.object({
  id: z.string(),
  title: z.string(),
  words: z.number(),
  updatedAt: z.number(),
  deletedAt: z.number().nullable(),
});
export type DocumentSummary = z.infer<typeof DocumentSummary>;

/**
 * A passage of a document an AI wrote: where it is, what produced it, and the text it covered (so
 * a range that no longer matches is found again by its text, or dropped).
 */
export const AiPassage = z.object({
  id: z.string().min(1).max(100),
  from: z.number().int().min(0),
  to: z.number().int().min(0),
  action: z.string().max(100),
  generationIds: z.array(z.string().max(100)).max(100),
  text: z.string().max(5_000_000),
});
export type AiPassage = z.infer<typeof AiPassage>;

export const StudioDocument = DocumentSummary.extend({
  body: z.string(),
  notes: z.string(),
  /** Kept with the document (not the browser), so it follows the document to any client and into backups. */
  aiPassages: z.array(AiPassage),
  createdAt: z.number(),
});
export type StudioDocument = z.infer<typeof StudioDocument>;

export const JobState = z.enum(['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted', 'paused']);
export type JobState = z.infer<typeof JobState>;

export const Job = z.object({
  id: z.string(),
  kind: GenerationKind,
  params: z.record(z.string(), z.unknown()),
  parentId: z.string().nullable(),
  state: JobState,
  priority: z.number(),
  progress: z.number().min(0).max(1),
  step: z.number(),
  totalSteps: z.number(),
  error: ErrorShape.nullable(),
  generationIds: z.array(z.string()),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
});
export type Job = z.infer<typeof Job>;

export const InstalledModel = z.object({
  id: z.string(),
  kind: ModelKind,
  name: z.string(),
  path: z.string(),
  bytes: z.number(),
  source: z.string(),
  installedAt: z.number(),
  /** What runs it, as models.list tells: 'gguf' (llama.cpp), 'server' (an OpenAI-compatible server), 'onnx'. */
  format: z.enum(['onnx', 'gguf', 'server']).optional(),
});
export type InstalledModel = z.infer<typeof InstalledModel>;

export const Collection = z.object({ id: z.string(), name: z.string(), size: z.number(), createdAt: z.number() });
export type Collection = z.infer<typeof Collection>;

export const DocumentVersionSummary = z.object({
  id: z.string(),
  documentId: z.string(),
  title: z.string(),
  words: z.number(),
  reason: z.string(),
  createdAt: z.number(),
});
export type DocumentVersionSummary = z.infer<typeof DocumentVersionSummary>;
export const DocumentVersion = DocumentVersionSummary.extend({ body: z.string() });
export type DocumentVersion = z.infer<typeof DocumentVersion>;


export const QuarantineSummary = z.object({ files: z.number(), bytes: z.number(), records: z.number(), oldestAt: z.number().nullable() });
export type QuarantineSummary = z.infer<typeof QuarantineSummary>;

export const RestoreState = z.object({
  action: z.enum(['restore', 'undo-restore']),
  /** The backup's file name (not its path). */
  from: z.string(),
  restoredAt: z.number(),
  canUndo: z.boolean(),
});
export type RestoreState = z.infer<typeof RestoreState>;

function call<I extends z.ZodType, O extends z.ZodType>(input: I, output: O) {
  return { input, output };
}

export const calls = {
  'app.info': call(Empty, AppInfo),
  /** The answer to an app.quitting event: this window has saved what it had pending. */
  'app.readyToQuit': call(z.strictObject({ quitId: z.string().min(1).max(64) }), Empty),
  'settings.get': call(Empty, Settings),
  'settings.set': call(SettingsPatch, Settings),

  'library.list': call(LibraryQuery, LibraryPage),
  /** Every id that matches a query, in its sort order (for "select all"); at most 100,000. */
  'library.ids': call(LibraryQuery.omit({ cursor: true, limit: true }), z.object({ ids: z.array(z.string()), truncated: z.boolean() })),
  'library.get': call(z.strictObject({ id: Id }), Generation),
  'library.search': call(SearchQuery, SearchResult),
  'library.rate': call(
    z.strictObject({ id: Id, rating: z.number().int().min(0).max(5).optional(), favourite: z.boolean().optional() }),
    Generation,
  ),
  'library.tag': call(
    z.strictObject({ id: Id, add: z.array(z.string().trim().min(1).max(64)).max(50).default([]), remove: z.array(z.string().max(64)).max(50).default([]) }),
    Generation,
  ),
  /** The same tag change on many items in one transaction (bulk tagging); count = items that exist, added = the tags as stored. */
  'library.tagMany': call(
    z.strictObject({ ids: z.array(Id).min(1).max(1000), add: z.array(z.string().trim().min(1).max(64)).max(50).default([]), remove: z.array(z.string().max(64)).max(50).default([]) }),
    z.object({ count: z.number(), added: z.array(z.string()) }),
  ),
  'library.delete': call(z.strictObject({ ids: z.array(Id).min(1).max(1000) }), z.object({ count: z.number() })),
  'library.restore': call(z.strictObject({ ids: z.array(Id).min(1).max(1000) }), z.object({ count: z.number() })),
  'library.notes': call(z.strictObject({ id: Id, notes: z.string().max(20_000) }), Generation),
  /** A mask painted in the Image view (PNG data URL, white = repaint) kept in the library; its asset id goes into maskAssetId. */
  'image.saveMask': call(z.strictObject({ png: z.string().max(12_000_000).startsWith('data:image/png;base64,') }), z.object({ assetId: z.string() })),
  /** Remix lineage: every ancestor (nearest first) and the direct children. */
  'library.lineage': call(z.strictObject({ id: Id }), z.object({ ancestors: z.array(Generation), children: z.array(Generation) })),
  /** Empties the trash: rows and the files no other item uses. */
  /** Search by meaning (merged with search by words unless words is false). */
  'library.searchMeaning': call(
    z.strictObject({ query: z.string().min(1).max(500), kind: GenerationKind.optional(), limit: z.number().int().min(1).max(200).default(60), words: z.boolean().default(true) }),
    MeaningResult,
  ),
  /** "More like this": the items nearest to one item by meaning, of its kind. */
  'library.similar': call(z.strictObject({ id: Id, limit: z.number().int().min(1).max(200).default(60) }), MeaningResult),
  /** Diversity of a batch: mean pairwise cosine distance of the items' embeddings (null when fewer than two are indexed). */
  'library.diversity': call(z.strictObject({ ids: z.array(Id).min(1).max(500) }), z.object({ diversity: z.number().nullable(), count: z.number(), model: z.string().nullable() })),
  'meaning.status': call(Empty, MeaningStatus),
  /** Chooses the model that indexes pictures (a CLIP model), texts or music (a CLAP model); null turns search by meaning off for that kind. */
  'meaning.setModel': call(z.strictObject({ kind: SearchableKind, model: z.string().min(1).max(4096).nullable() }), MeaningStatus),
  'meaning.setPaused': call(z.strictObject({ paused: z.boolean() }), MeaningStatus),
  /** Uses an installed embedding model for search by meaning, for the kind it embeds (asked of the model itself) or `kind`. */
  'meaning.useModel': call(z.strictObject({ model: Id.max(4096), kind: SearchableKind.optional() }), MeaningStatus),
  'library.purge': call(Empty, z.object({ generations: z.number(), files: z.number(), bytesFreed: z.number() })),
  /** Exports with provenance into a new folder under the data folder's exports/; the renderer never names paths to write. */
  'library.export': call(z.strictObject({ ids: z.array(Id).min(1).max(10_000), zip: z.boolean().default(false) }), z.object({ folder: z.string(), files: z.array(z.string()), /** Why the files were not signed, when signing is on but cannot run here. */ unsigned: z.string().optional() })),
  /** Files the database does not name, set aside in the library's quarantine (never deleted on a guess). */
  'library.quarantine': call(Empty, QuarantineSummary),
  /** Brings back every generation whose record is in quarantine, with its files. */
  'library.quarantineRebuild': call(Empty, z.object({ generations: z.number(), missingFiles: z.number() })),
  /** Deletes the quarantine for good (a person's explicit choice); returns what it held. */
  'library.quarantineDelete': call(Empty, QuarantineSummary),
  /** Whether this library was restored from a backup (and can be put back as it was). */
  'library.restoreState': call(Empty, z.object({ restore: RestoreState.nullable() })),
  /** Puts the library back as it was before the last restore (rows and files). */
  'library.undoRestore': call(Empty, z.object({ generations: z.number() })),
  /** Hides "Undo restore"; the kept database stays in the library's backups folder. */
  'library.dismissRestore': call(Empty, z.object({})),
  /** Imports a folder of AUTOMATIC1111, ComfyUI, InvokeAI or Atelier PNGs with their parameters. */
  'library.importFolder': call(
    z.strictObject({ path: z.string().min(1).max(4096) }),
    z.object({
      imported: z.number(),
      ids: z.array(z.string()),
      restored: z.array(z.string()),
      skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
      /** How many imported pictures carry Content Credentials, by state (absent where they cannot be read here). */
      credentials: z.object({ trusted: z.number(), valid: z.number(), invalid: z.number() }).optional(),
    }),
  ),
  /** The C2PA Content Credentials of a generation's files, validated (this installation's CA trusted). */
  'credentials.read': call(
    z.strictObject({ id: Id }),
    /** `unsigned`: why the library stored this generation's pictures without credentials, when it did. */
    z.object({ items: z.array(AssetCredentials), unsigned: z.string().optional() }),
  ),
  /** This installation's signing identity (made on first use). */
  'credentials.identity': call(Empty, SigningIdentityInfo),
  /** Signs from now on with the person's own certificate chain (signer first) and key, PEM; the identity in use is kept aside. */
  'credentials.importIdentity': call(z.strictObject({ chainPem: z.string().min(1).max(200_000), keyPem: z.string().min(1).max(50_000) }), SigningIdentityInfo),
  'library.tags': call(Empty, z.object({ items: z.array(z.object({ name: z.string(), count: z.number() })) })),

  'collections.list': call(Empty, z.object({ items: z.array(Collection) })),
  'collections.create': call(z.strictObject({ name: z.string().trim().min(1).max(100) }), Collection),
  'collections.items': call(z.strictObject({ collectionId: Id }), z.object({ ids: z.array(z.string()) })),
  'collections.add': call(z.strictObject({ collectionId: Id, ids: z.array(Id).min(1).max(1000) }), z.object({ count: z.number() })),
  'collections.remove': call(z.strictObject({ collectionId: Id, ids: z.array(Id).min(1).max(1000) }), z.object({ count: z.number() })),
  'collections.delete': call(z.strictObject({ collectionId: Id }), z.object({ deleted: z.boolean() })),

  'documents.create': call(z.strictObject({ title: z.string().max(300).default('Untitled'), body: z.string().max(5_000_000).default('') }), StudioDocument),
  'documents.get': call(z.strictObject({ id: Id }), StudioDocument),
  'documents.update': call(
    z.strictObject({
      id: Id,
      title: z.string().max(300).optional(),
      body: z.string().max(5_000_000).optional(),
      notes: z.string().max(100_000).optional(),
      aiPassages: z.array(AiPassage).max(10_000).optional(),
    }),
    StudioDocument,
  ),
  'documents.list': call(z.strictObject({ trash: z.boolean().default(false) }), z.object({ items: z.array(DocumentSummary) })),
  /** Finds documents by title, notes and text; snippets are escaped HTML whose only markup is <mark>. */
  'documents.search': call(z.strictObject({ query: z.string().min(1).max(500) }), z.object({ items: z.array(z.object({ document: DocumentSummary, snippet: z.string() })) })),
  'documents.delete': call(z.strictObject({ id: Id }), z.object({ id: z.string() })),
  'documents.restore': call(z.strictObject({ id: Id }), StudioDocument),
  'documents.snapshot': call(z.strictObject({ id: Id, reason: z.string().min(1).max(200) }), DocumentVersionSummary),
  'documents.versions': call(z.strictObject({ id: Id }), z.object({ items: z.array(DocumentVersionSummary) })),
  'documents.version': call(z.strictObject({ versionId: Id }), DocumentVersion),
  /** Brings back an older version; the current text is snapshotted first, so nothing is lost. */
  'documents.restoreVersion': call(z.strictObject({ id: Id, versionId: Id }), StudioDocument),

  'jobs.start': call(JobRequest, z.object({ jobId: z.string() })),
  'jobs.cancel': call(z.strictObject({ jobId: Id, hard: z.boolean().default(false) }), z.object({ jobId: z.string(), state: JobState })),
  'jobs.list': call(z.strictObject({ limit: z.number().int().min(1).max(500).default(100) }), z.object({ items: z.array(Job), paused: z.boolean() })),
  /** Higher priority runs first; queued jobs of equal priority run oldest first. */
  'jobs.reorder': call(z.strictObject({ jobId: Id, priority: z.number().int().min(-10).max(10) }), Job),
  /** Pausing lets the running job finish and starts no new one until resumed. */
  'jobs.pause': call(z.strictObject({ paused: z.boolean() }), z.object({ paused: z.boolean() })),
  'jobs.resume': call(z.strictObject({ jobId: Id }), z.object({ jobId: z.string() })),

  'models.list': call(Empty, z.object({ items: z.array(InstalledModel) })),
  /** Registers a model folder already on disk after the engine validated its layout. */
  'models.import': call(z.strictObject({ path: z.string().min(1).max(4096), name: z.string().max(200).optional() }), InstalledModel),
  'models.remove': call(z.strictObject({ id: Id }), z.object({ id: z.string(), usedBy: z.number() })),
  'models.catalog': call(Empty, z.object({ items: z.array(CatalogItem) })),
  /** Starts a download from the hub (catalog id or owner/name); progress arrives as models.progress events. */
  'models.pull': call(
    z.strictObject({
      repo: z.string().min(3).max(200),
      revision: z.string().max(100).optional(),
      dtype: z.enum(['fp32', 'fp16', 'q8', 'q4', 'q4f16']).optional(),
      /** A GGUF quantisation (Q4_K_M) or a file path from models.ggufQuants. */
      quant: z.string().min(1).max(500).optional(),
      name: z.string().max(200).optional(),
    }),
    z.object({ downloadId: z.string() }),
  ),
  /** The GGUF quantisations of a hub repository (catalog id or owner/name), with sizes from its file tree. */
  'models.ggufQuants': call(z.strictObject({ repo: z.string().min(3).max(200), revision: z.string().max(100).optional() }), GgufQuantList),
  'models.downloads': call(Empty, z.object({ items: z.array(DownloadState) })),
  'models.pause': call(z.strictObject({ downloadId: Id.max(300) }), z.object({ downloadId: z.string() })),
  'models.resume': call(z.strictObject({ downloadId: Id.max(300) }), z.object({ downloadId: z.string() })),
  'models.cancel': call(z.strictObject({ downloadId: Id.max(300) }), z.object({ downloadId: z.string() })),
  'models.verify': call(z.strictObject({ id: Id }), z.object({ id: z.string(), ok: z.boolean(), problems: z.array(z.string()) })),
  /** Stores a Hugging Face access token for gated models (encrypted by the OS keychain in the desktop app). */
  /** The upscale models: bundled ESRGAN (converted on first use) and imported super-resolution folders. */
  'upscale.models': call(Empty, z.object({ items: z.array(UpscaleModel) })),
  /** Imports an ONNX (Real-ESRGAN layout) or TF.js super-resolution folder after the engine loaded and probed it. */
  'upscale.import': call(z.strictObject({ path: z.string().min(1).max(4096), name: z.string().max(200).optional() }), UpscaleModel),
  'upscale.remove': call(z.strictObject({ id: Id }), z.object({ id: z.string() })),
  'models.setToken': call(z.strictObject({ token: z.string().max(400) }), z.object({ stored: z.boolean() })),
  /** Asks an OpenAI-compatible server (vLLM, llama.cpp, Ollama, LM Studio, another Atelier) which models it offers (GET /v1/models). */
  'models.testRemote': call(RemoteEndpoint, z.object({ models: z.array(z.string()) })),
  /** Registers one model of an OpenAI-compatible server as a text model; the API key is kept like the hub token, for that host only. */
  'models.addRemote': call(
    RemoteEndpoint.extend({
      model: z.string().min(1).max(500),
      name: z.string().min(1).max(200).optional(),
      /** Command line: the environment variable that holds the key (never stored). */
      apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name like MY_API_KEY').max(100).optional(),
    }),
    InstalledModel,
  ),
} as const;

export type Calls = typeof calls;
export type CallName = keyof Calls;
export type CallInput<N extends CallName> = z.input<Calls[N]['input']>;
export type CallArgs<N extends CallName> = z.output<Calls[N]['input']>;
export type CallOutput<N extends CallName> = z.output<Calls[N]['output']>;
export const CALL_NAMES = Object.keys(calls) as CallName[];

export const events = {
  /** The desktop app is about to quit: save anything pending, then call app.readyToQuit with this id. */
  'app.quitting': z.object({ quitId: z.string() }),
  'jobs.changed': Job,
  'jobs.progress': z.object({
    jobId: z.string(),
    step: z.number(),
    totalSteps: z.number(),
    progress: z.number(),
    etaMs: z.number().nullable(),
    message: z.string().optional(),
  }),
  'jobs.token': z.object({ jobId: z.string(), text: z.string(), tokens: z.number(), tokensPerSecond: z.number().nullable(), firstTokenMs: z.number().nullable() }),
  /** A small preview image as a data: URL (PNG), produced from latents every step. */
  'jobs.preview': z.object({ jobId: z.string(), step: z.number(), dataUrl: z.string() }),
  'library.changed': z.object({ ids: z.array(z.string()) }),
  /** The index behind search by meaning advanced, finished or stopped. */
  'meaning.status': MeaningStatus,
  'models.progress': DownloadState,
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<N extends EventName> = z.output<Events[N]>;
export const EVENT_NAMES = Object.keys(events) as EventName[];
