import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LibraryQuery, type CallInput, type CallName, type CallOutput, type Generation, type Job } from '../../shared/contract';
import type { EngineInfo, ModelInspection } from '../../shared/engine-protocol';
import { StudioError, toErrorShape } from '../../shared/errors';
import { spawnNodeEngine } from '../engine-host/spawn-node';
import { credentialsCommand, exportSigningFor } from '../credentials/cli';
import { libraryBackupCommand, libraryExportCommand, libraryImportCommand, libraryRestoreCommand } from '../library-io/cli';
import { acquireLibraryLock, openLibrary, openLibraryReader, readLibraryOwner, undoRestore, type LibraryReader } from '../library';
import { connectLocalEndpoint, localEndpointPath, type LocalEndpointClient } from '../transport/local-endpoint';
import { rebuildLibrary, startEmptyLibrary } from '../library/recovery';
import { dataLayout, defaultDataDir } from '../paths';
import type { Dtype } from '../models/catalog';
import { modelsPullCommand, modelsRemoveCommand, modelsVerifyCommand } from '../models/cli';
import { findLocalGgufModels } from '../models/local-sources';
import { appVersion, createStudio, type Studio } from '../studio';
import { startBrowserServer } from '../transport/ws-server';
import { startOpenAiServer, type OpenAiServer } from '../openai/server';
import { progressLine } from './progress';
import { looksLikeUpscaler, upscaleCommand, upscaleImportCommand } from '../upscale/cli';
import { indexCommand, meaningSearchCommand, similarCommand } from '../meaning/cli';

/**
 * `atelier <command>`: the same studio as the app (library, engine, queue, handlers), driven from a
 * terminal. Results go to stdout (`--json` for machines); progress and messages go to stderr.
 */
const USAGE = `Usage: atelier <command> [options]

Commands:
  info                                 versions, data folders, execution providers
  engine info                          providers available, the chain Atelier will try, and why
  library list [--kind K] [--limit N]  recent generations
  library search QUERY [--meaning] [--kind K]  full-text search over prompts, texts and tags; --meaning
                                       adds search by meaning (pictures, texts and music that match the idea)
  library similar ID                   "more like this": the items nearest to one by meaning
  library index [--model ID|DIR] [--kind image|text|music]  index the library for search by meaning
                                       (a CLIP model for pictures, a sentence embedder for texts);
                                       resumes where an interrupted index stopped
  library show ID                      one generation with every parameter
  library export ID... --to DIR [--zip] [--unsigned]  export with provenance (PNG chunks + XMP, WAV INFO, Markdown front matter, C2PA Content Credentials unless --unsigned) and a manifest
  library credentials FILE...  read and validate the C2PA Content Credentials of pictures or WAV files
  library import DIR                   import AUTOMATIC1111, ComfyUI, InvokeAI and Atelier PNGs with their parameters
  library backup FILE                  the whole library (database + files) as one archive
  library restore FILE                 replace the library with a backup (the old database is kept in backups/)
  library undo-restore                 put back the library as it was before the last restore
  library rebuild                      re-create the database from the library's own files and records
                                       (the database in the way is kept in backups/; nothing is deleted)
  library start-empty                  set a damaged database aside (in backups/) and start an empty library
  library quarantine [rebuild|delete]  files the database does not name: how many, bring their
                                       generations back, or delete them for good
  models list                          installed models
  models inspect DIR|FILE.gguf         which kind of model a folder (or GGUF file) holds and what is missing
  models import DIR|FILE.gguf [--name NAME]
                                       register a local model folder or GGUF file (files stay where they are)
  models add-remote --base-url URL --remote-model NAME [--name N] [--allow-http] [--api-key-env VAR]
                                       a text model on an OpenAI-compatible server (vLLM, llama.cpp, Ollama,
                                       LM Studio); the API key is read from the environment variable VAR
  models discover [--import]           GGUF models LM Studio and Ollama already have here; --import registers
                                       them in place (nothing is copied)
  models pull REPO[@REV] [--files GLOB,GLOB] [--dtype fp32|fp16|q8|q4] [--quant Q4_K_M]
                                       download from the Hugging Face hub (HF_ENDPOINT, HF_TOKEN), resumable
  models rm ID                         remove a model (says which generations used it)
  models verify ID                     check every file against the digests recorded at download
  generate text  --model DIR|ID|FILE.gguf --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-p P] [--top-k K]
                 [--min-p P] [--repetition-penalty R] [--seed S]
  generate image --model DIR|ID --prompt TEXT [--negative TEXT] [--steps N] [--guidance G] [--scheduler S]
                 [--seed S] [--width W --height H] [--init FILE --strength F] [--batch N] --out FILE.png
                 [--mask FILE (white = repaint) [--mask-blur N] [--masked-only]] [--outpaint LEFT,TOP,RIGHT,BOTTOM]
  generate music --model DIR|ID --prompt TEXT [--seconds S] [--guidance G] [--temperature T] [--top-k K] [--seed N] --out FILE.wav
  upscale IMAGE --model ID|DIR [--scale N] [--tile N] [--overlap N] --out FILE.png
                                       super-resolution (bundled: esrgan-slim|medium|thick-x2|x4); with
                                       --library the result is a generation whose parent is IMAGE
  serve [--port N]                     browser mode on 127.0.0.1; prints the URL to open
        [--openai [--openai-port N] [--openai-key KEY]]
                                       also serve the installed text models on a loopback OpenAI-compatible
                                       endpoint (/v1/models, /v1/completions, /v1/chat/completions)

Options for every command:
  --library DIR   the data folder (database, files, installed models); default ${defaultDataDir()}
  --json          machine-readable output on stdout
  --quiet, -q     no progress on stderr (results still go to stdout)
`;

const OPTIONS = {
  library: { type: 'string' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  kind: { type: 'string' },
  limit: { type: 'string' },
  to: { type: 'string' },
  files: { type: 'string' },
  dtype: { type: 'string' },
  quant: { type: 'string' },
  zip: { type: 'boolean', default: false },
  unsigned: { type: 'boolean', default: false },
  meaning: { type: 'boolean', default: false },
  name: { type: 'string' },
  model: { type: 'string' },
  prompt: { type: 'string' },
  negative: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  scheduler: { type: 'string' },
  seed: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  init: { type: 'string' },
  strength: { type: 'string' },
  mask: { type: 'string' },
  'mask-blur': { type: 'string' },
  'masked-only': { type: 'boolean', default: false },
  outpaint: { type: 'string' },
  batch: { type: 'string' },
  out: { type: 'string' },
  seconds: { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  'min-p': { type: 'string' },
  'repetition-penalty': { type: 'string' },
  'max-new-tokens': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  scale: { type: 'string' },
  tile: { type: 'string' },
  overlap: { type: 'string' },
  openai: { type: 'boolean', default: false },
  import: { type: 'boolean', default: false },
  'base-url': { type: 'string' },
  'remote-model': { type: 'string' },
  'allow-http': { type: 'boolean', default: false },
  'api-key-env': { type: 'string' },
  'openai-port': { type: 'string' },
  'openai-key': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class Cli {
  private studioPromise: Promise<Studio> | null = null;
  private readerValue: LibraryReader | null = null;
  private remote: LocalEndpointClient | null = null;
  constructor(
    readonly values: Values,
    private readonly mode: 'cli' | 'browser' = 'cli',
    /** The command line as a person would say it, told to another process that finds the library taken. */
    private readonly what = 'atelier',
  ) {}

  get dataDir(): string {
    return path.resolve(this.values.library ?? defaultDataDir());
  }

  get libraryDir(): string {
    return dataLayout(this.dataDir).libraryDir;
  }

  studio(): Promise<Studio> {
    return (this.studioPromise ??= createStudio({
      dataDir: this.dataDir,
      mode: this.mode,
      ownerDetail: this.what,
      spawnEngine: () => spawnNodeEngine(),
      log: (message) => process.stderr.write(`${message}\n`),
    }));
  }

  /**
   * For commands that only read: a read-only connection that works beside a running app or
   * `serve` (no lock, no engine). Falls back to opening the studio when there is no database yet
   * or it needs migrating.
   */
  async reader(): Promise<LibraryReader> {
    const studio = this.studioPromise ? await this.studioPromise.catch(() => null) : null;
    if (studio) return studio.library;
    this.readerValue ??= openLibraryReader(this.libraryDir);
    return this.readerValue ?? (await this.studio()).library;
  }

  async call<N extends CallName>(name: N, input: CallInput<N>): Promise<CallOutput<N>> {
    const studio = await this.studio();
    const result = await studio.dispatch(name, input, { transport: 'cli' });
    if (!result.ok) throw new StudioError(result.error.code, result.error.message);
    return result.value as CallOutput<N>;
  }

  print(value: unknown, human: () => string): void {
    process.stdout.write(this.values.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
  }

  /**
   * Where this command's job runs: here, or in the desktop app or `serve` that owns the library
   * (handed over through its local endpoint, with its progress printed here). Without an endpoint
   * to talk to, the owner is named and nothing runs.
   */
  async jobHost(): Promise<JobHost> {
    try {
      return localJobHost(this, await this.studio());
    } catch (error) {
      if (!(error instanceof StudioError) || error.code !== 'LIBRARY_IN_USE') throw error;
      const client = await connectLocalEndpoint(localEndpointPath(this.libraryDir)).catch(() => {
        throw error;
      });
      const reader = await this.reader().catch(() => null);
      if (!reader) {
        client.close();
        throw error;
      }
      this.remote = client;
      const owner = readLibraryOwner(this.libraryDir);
      process.stderr.write(`The library is open in ${owner ? `Atelier's ${owner.kind} (process ${owner.pid})` : 'another Atelier'}: the job runs there.\n`);
      return remoteJobHost(client, reader);
    }
  }

  async close(): Promise<void> {
    this.remote?.close();
    this.readerValue?.close();
    // A studio that never opened (the library was someone else's) has nothing to close.
    const studio = this.studioPromise ? await this.studioPromise.catch(() => null) : null;
    await studio?.close();
  }
}

function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new StudioError('INVALID_INPUT', `--${flag} needs a number, got "${value}".`);
  return n;
}

function need(value: string | undefined, flag: string): string {
  if (!value) throw new StudioError('INVALID_INPUT', `--${flag} is required. See atelier --help.`);
  return value;
}

function modelArg(value: string | undefined): string {
  const model = need(value, 'model');
  return existsSync(model) ? path.resolve(model) : model;
}

function summary(g: Generation): string {
  const text = (g.outputText ?? g.prompt).replace(/\s+/g, ' ').slice(0, 70);
  return `${g.id}  ${g.kind.padEnd(5)}  ${new Date(g.createdAt).toISOString().slice(0, 16)}  ${'★'.repeat(g.rating).padEnd(5)}  ${text}`;
}

/**
 * Where a CLI job runs: in this process's own studio, or — when the desktop app or `serve` owns the
 * library — in that app, handed over through its local endpoint (see transport/local-endpoint.ts).
 */
interface JobHost {
  start(request: CallInput<'jobs.start'>): Promise<string>;
  subscribe(listener: (event: string, payload: unknown) => void): () => void;
  waitFor(jobId: string): Promise<Job>;
  generation(id: string): Promise<Generation>;
  assetPath(assetId: string): Promise<string | null>;
}

function localJobHost(cli: Cli, studio: Studio): JobHost {
  return {
    start: async (request) => (await cli.call('jobs.start', request)).jobId,
    subscribe: (listener) => studio.events.subscribe(listener),
    waitFor: (jobId) => studio.queue.waitFor(jobId),
    generation: async (id) => studio.library.getGeneration(id),
    assetPath: async (assetId) => studio.library.resolveAsset(assetId)?.path ?? null,
  };
}

function remoteJobHost(client: LocalEndpointClient, reader: LibraryReader): JobHost {
  const finished = new Map<string, Job>();
  const waiters = new Map<string, (job: Job) => void>();
  client.onEvent((event, payload) => {
    if (event !== 'jobs.changed') return;
    const job = payload as Job;
    if (job.state !== 'done' && job.state !== 'failed' && job.state !== 'cancelled') return;
    finished.set(job.id, job);
    waiters.get(job.id)?.(job);
  });
  return {
    start: async (request) => (await client.call<{ jobId: string }>('jobs.start', request)).jobId,
    subscribe: (listener) => client.onEvent(listener),
    waitFor: (jobId) => {
      const done = finished.get(jobId);
      return done ? Promise.resolve(done) : new Promise((resolve) => waiters.set(jobId, resolve));
    },
    generation: (id) => client.call<Generation>('library.get', { id }),
    // Files are read straight from the library folder, read-only, beside the app that owns it.
    assetPath: async (assetId) => reader.resolveAsset(assetId)?.path ?? null,
  };
}

async function runJob(cli: Cli, request: CallInput<'jobs.start'>, streamTokens: boolean): Promise<{ job: Job; generations: Generation[]; host: JobHost }> {
  const host = await cli.jobHost();
  const progress = progressLine(process.stderr, { quiet: cli.values.quiet });
  let jobId: string | null = null;
  // Subscribed before the job starts, so not one event of it is missed.
  const unsubscribe = host.subscribe((event, payload) => {
    if ((payload as { jobId?: string }).jobId !== jobId) return;
    if (event === 'jobs.token' && streamTokens) process.stdout.write((payload as { text: string }).text);
    if (event === 'jobs.progress') {
      const p = payload as { step: number; totalSteps: number };
      progress.update(p.step, p.totalSteps);
    }
  });
  jobId = await host.start(request);
  const job = await host.waitFor(jobId);
  unsubscribe();
  progress.end();
  if (job.state !== 'done') {
    throw new StudioError((job.error?.code as StudioError['code']) ?? 'CANCELLED', job.error?.message ?? `The job ended as ${job.state}.`);
  }
  const generations = await Promise.all(job.generationIds.map((id) => host.generation(id)));
  return { job, generations, host };
}

async function copyOutputs(host: JobHost, generations: Generation[], out: string, role: string): Promise<string[]> {
  const files = generations.flatMap((g) => g.assets.filter((a) => a.role === role));
  const written: string[] = [];
  const ext = path.extname(out);
  const stem = out.slice(0, out.length - ext.length);
  for (const [index, asset] of files.entries()) {
    const source = await host.assetPath(asset.id);
    if (!source) continue;
    const target = files.length === 1 ? out : `${stem}-${index + 1}${ext}`;
    await fs.mkdir(path.dirname(path.resolve(target)), { recursive: true });
    await fs.copyFile(source, target);
    written.push(path.resolve(target));
  }
  return written;
}

async function generate(cli: Cli, what: string | undefined): Promise<void> {
  const v = cli.values;
  if (what === 'text') {
    const { generations } = await runJob(
      cli,
      {
        kind: 'text',
        params: {
          model: modelArg(v.model),
          prompt: need(v.prompt, 'prompt'),
          maxNewTokens: num(v['max-new-tokens'], 'max-new-tokens'),
          temperature: num(v.temperature, 'temperature'),
          topP: num(v['top-p'], 'top-p'),
          topK: num(v['top-k'], 'top-k'),
          minP: num(v['min-p'], 'min-p'),
          repetitionPenalty: num(v['repetition-penalty'], 'repetition-penalty'),
          seed: num(v.seed, 'seed'),
        },
      },
      !v.json,
    );
    const g = generations[0];
    if (v.json) {
      const tokens = typeof g.timings.tokens === 'number' ? g.timings.tokens : null;
      process.stdout.write(`${JSON.stringify({ generationId: g.id, text: g.outputText ?? '', tokens, provider: g.provider })}\n`);
    } else process.stdout.write('\n');
    return;
  }
  if (what === 'image') {
    const out = need(v.out, 'out');
    let initAssetId: string | undefined;
    if (v.init) initAssetId = await importInitImage(cli, v.init);
    const inpaint = inpaintOptions(v);
    if ((v.mask || inpaint.outpaint) && !v.init) throw new StudioError('INVALID_INPUT', '--mask and --outpaint need --init FILE: the picture to paint over.');
    const maskAssetId = v.mask ? await importInitImage(cli, v.mask) : undefined;
    const { generations, host } = await runJob(
      cli,
      {
        kind: 'image',
        params: {
          model: modelArg(v.model),
          prompt: need(v.prompt, 'prompt'),
          negativePrompt: v.negative,
          steps: num(v.steps, 'steps'),
          guidance: num(v.guidance, 'guidance'),
          scheduler: v.scheduler as 'euler' | undefined,
          seed: num(v.seed, 'seed'),
          width: num(v.width, 'width'),
          height: num(v.height, 'height'),
          batch: num(v.batch, 'batch'),
          initAssetId,
          strength: num(v.strength, 'strength'),
          ...(maskAssetId ? { maskAssetId } : {}),
          ...inpaint,
        },
      },
      false,
    );
    const files = await copyOutputs(host, generations, out, 'image');
    cli.print({ generationId: generations[0]?.id, generationIds: generations.map((g) => g.id), files, seed: generations[0]?.seed, provider: generations[0]?.provider }, () => files.join('\n'));
    return;
  }
  if (what === 'music') {
    const out = need(v.out, 'out');
    const { generations, host } = await runJob(
      cli,
      {
        kind: 'music',
        params: {
          model: modelArg(v.model),
          prompt: need(v.prompt, 'prompt'),
          seconds: num(v.seconds, 'seconds'),
          guidance: num(v.guidance, 'guidance'),
          temperature: num(v.temperature, 'temperature'),
          topK: num(v['top-k'], 'top-k'),
          seed: num(v.seed, 'seed'),
        },
      },
      false,
    );
    const files = await copyOutputs(host, generations, out, 'audio');
    const g = generations[0];
    const meta = (g?.params.meta ?? {}) as { sampleRate?: number };
    const audio = g?.assets.find((a) => a.role === 'audio');
    cli.print({ generationId: g?.id, files, seconds: (audio?.durationMs ?? 0) / 1000, sampleRate: meta.sampleRate ?? null, provider: g?.provider }, () => files.join('\n'));
    return;
  }
  throw new StudioError('INVALID_INPUT', 'generate needs a kind: text, image or music.');
}

/** img2img from the command line: the init file goes into the library first, so lineage can point at it. */
/** --mask-blur, --masked-only and --outpaint L,T,R,B as image params (absent when not given). */
function inpaintOptions(v: Cli['values']): { maskBlur?: number; maskedOnly?: boolean; outpaint?: { left: number; top: number; right: number; bottom: number } } {
  const out: ReturnType<typeof inpaintOptions> = {};
  const blur = num(v['mask-blur'], 'mask-blur');
  if (blur !== undefined) out.maskBlur = blur;
  if (v['masked-only']) out.maskedOnly = true;
  if (v.outpaint) {
    const parts = v.outpaint.split(',').map((p) => Number(p.trim()));
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p % 8 !== 0)) {
      throw new StudioError('INVALID_INPUT', '--outpaint takes four multiples of 8, LEFT,TOP,RIGHT,BOTTOM (e.g. 64,0,64,0).');
    }
    const [left, top, right, bottom] = parts as [number, number, number, number];
    out.outpaint = { left, top, right, bottom };
  }
  return out;
}

async function importInitImage(cli: Cli, file: string): Promise<string> {
  const studio = await cli.studio();
  const staged = path.join(studio.layout.stagingDir, `init-${Date.now()}${path.extname(file) || '.png'}`);
  const mime = /\.jpe?g$/i.test(file) ? 'image/jpeg' : /\.webp$/i.test(file) ? 'image/webp' : 'image/png';
  try {
    await fs.copyFile(file, staged);
    const generation = await studio.library.commitGeneration({
      kind: 'image',
      model: 'import',
      prompt: `Imported ${path.basename(file)}`,
      params: { source: 'import', file: path.basename(file) },
      files: [{ sourcePath: staged, mime, role: 'image' }],
    });
    return generation.assets[0].id;
  } finally {
    await fs.rm(staged, { force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, sub, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  const cli = new Cli(values, command === 'serve' ? 'browser' : 'cli', ['atelier', command, sub].filter(Boolean).join(' '));
  try {
    switch (command) {
      case 'info': {
        const info = await cli.call('app.info', {});
        cli.print(info, () =>
          [
            `Atelier ${info.version} (${info.mode})`,
            `data:      ${info.dataDir}`,
            `library:   ${info.libraryDir}`,
            `models:    ${info.modelsDir}`,
            `providers: ${info.providers.map((p) => `${p.name}${p.available ? '' : ' (unavailable)'}`).join(', ')}`,
            `preferred: ${info.preferredProvider}`,
            ...Object.entries(info.versions).map(([k, v]) => `${k.padEnd(10)} ${v}`),
          ].join('\n'),
        );
        return 0;
      }
      case 'engine': {
        if (sub !== 'info') throw new StudioError('INVALID_INPUT', 'Try: atelier engine info');
        const studio = await cli.studio();
        const info = await studio.engine.request<EngineInfo>({ type: 'info' });
        cli.print(info, () =>
          [
            `onnxruntime-node ${info.onnxruntime}, transformers.js ${info.transformers}, ${info.intraOpThreads} threads`,
            `chain: ${info.chain.join(' → ')}`,
            ...info.providers.map((p) => `  ${p.name.padEnd(7)} ${p.available ? 'available' : 'unavailable'}${p.reason ? ` — ${p.reason}` : ''}`),
          ].join('\n'),
        );
        return 0;
      }
      case 'library':
        return await libraryCommand(cli, sub, rest);
      case 'models':
        return await modelsCommand(cli, sub, rest);
      case 'generate':
        await generate(cli, sub);
        return 0;
      case 'upscale':
        return await upscaleCommand(cli, [sub, ...rest]);
      case 'serve':
        return await serve(cli);
      default:
        throw new StudioError('INVALID_INPUT', `Unknown command "${command}". See atelier --help.`);
    }
  } finally {
    if (command !== 'serve') await cli.close();
  }
}

async function libraryCommand(cli: Cli, sub: string | undefined, rest: string[]): Promise<number> {
  const v = cli.values;
  // list, search, show and export only read: they work beside a running app (see Cli.reader).
  if (sub === 'list') {
    const library = await cli.reader();
    const kind = LibraryQuery.shape.kind.safeParse(v.kind);
    if (!kind.success) throw new StudioError('INVALID_INPUT', `--kind is text, image or music, not "${v.kind}".`);
    const page = library.listGenerations({ kind: kind.data, limit: num(v.limit, 'limit') ?? 50 });
    cli.print(page, () => (page.items.length ? page.items.map(summary).join('\n') : 'The library is empty.'));
    return 0;
  }
  // Search by meaning needs the engine: these open the studio (see meaning/cli.ts).
  if (sub === 'search' && v.meaning) return meaningSearchCommand(cli, rest.join(' ') || need(undefined, 'query'), num(v.limit, 'limit'));
  if (sub === 'similar') return similarCommand(cli, rest[0] ?? need(undefined, 'id'), num(v.limit, 'limit'));
  if (sub === 'index') return indexCommand(cli);
  if (sub === 'search') {
    const library = await cli.reader();
    const result = library.searchGenerations({ query: rest.join(' ') || need(undefined, 'query') });
    cli.print(result, () => (result.items.length ? result.items.map((h) => `${summary(h.generation)}\n    ${h.snippet.replace(/<\/?mark>/g, '*')}`).join('\n') : 'No matches.'));
    return 0;
  }
  if (sub === 'show') {
    const library = await cli.reader();
    const g = library.getGeneration(rest[0] ?? need(undefined, 'id'));
    cli.print(g, () => JSON.stringify(g, null, 2));
    return 0;
  }
  if (sub === 'export') {
    const signing = v.unsigned ? undefined : await exportSigningFor(cli.dataDir, appVersion());
    return libraryExportCommand(await cli.reader(), rest, need(v.to, 'to'), { zip: v.zip, json: v.json, signing });
  }
  if (sub === 'credentials') {
    return credentialsCommand(rest.length ? rest : [need(undefined, 'file')], cli.dataDir, { json: v.json });
  }
  if (sub === 'import') {
    const studio = await cli.studio();
    return libraryImportCommand(studio.library, path.resolve(rest[0] ?? need(undefined, 'dir')), { json: v.json });
  }
  if (sub === 'backup') {
    const studio = await cli.studio();
    return libraryBackupCommand(studio.library, studio.layout.libraryDir, path.resolve(rest[0] ?? need(undefined, 'file')), { json: v.json });
  }
  if (sub === 'restore') {
    // The library must be closed while its database is swapped, so restore never opens a studio; it takes the lock itself.
    return libraryRestoreCommand(path.resolve(rest[0] ?? need(undefined, 'file')), cli.libraryDir, { json: v.json });
  }
  if (sub === 'undo-restore') {
    const lock = acquireLibraryLock(cli.libraryDir, { kind: 'command line', detail: 'atelier library undo-restore' });
    try {
      const result = undoRestore(cli.libraryDir);
      cli.print(result, () => `The library is back as it was before the restore. The restored database was kept at ${result.previousCopy ?? '(none)'}.`);
    } finally {
      lock.release();
    }
    return 0;
  }
  if (sub === 'rebuild') {
    const result = await rebuildLibrary(cli.libraryDir);
    cli.print(result, () =>
      [
        `Rebuilt ${result.ids.length} generations (${result.linkedParents} remix links) from the library's records.`,
        result.pictures.length ? `${result.pictures.length} pictures without a record came back from their own metadata.` : '',
        result.setAside ? `The database that was there is kept at ${result.setAside}.` : '',
        result.filesFromQuarantine ? `${result.filesFromQuarantine} files came back from quarantine.` : '',
        result.missingFiles.length ? `${result.missingFiles.length} files named by records are missing; those generations came back without them.` : '',
        ...result.unreadable.map((file) => `Could not read ${file}.`),
      ]
        .filter(Boolean)
        .join('\n'),
    );
    return 0;
  }
  if (sub === 'start-empty') {
    const setAside = startEmptyLibrary(cli.libraryDir);
    cli.print({ setAside }, () => (setAside ? `The database was moved to ${setAside}. The next start opens an empty library beside the same files; \`atelier library rebuild\` can still bring the generations back.` : 'There is no database to set aside.'));
    return 0;
  }
  if (sub === 'quarantine') {
    const action = rest[0];
    const library = openLibrary(cli.libraryDir, { owner: { kind: 'command line', detail: `atelier library quarantine${action ? ` ${action}` : ''}` } });
    try {
      if (action === 'rebuild') {
        const report = library.recoverFromRecords();
        cli.print(report, () => `Brought back ${report.ids.length} generations from quarantine.`);
      } else if (action === 'delete') {
        const removed = library.deleteQuarantine();
        cli.print(removed, () => `Deleted ${removed.files} quarantined files (${(removed.bytes / 1e6).toFixed(1)} MB).`);
      } else if (action === undefined) {
        const summary = library.quarantineSummary();
        cli.print(summary, () => `${summary.files} files (${(summary.bytes / 1e6).toFixed(1)} MB) in quarantine, ${summary.records} of them generation records.`);
      } else throw new StudioError('INVALID_INPUT', 'Try: atelier library quarantine [rebuild|delete]');
    } finally {
      library.close();
    }
    return 0;
  }
  throw new StudioError('INVALID_INPUT', 'Try: atelier library list|search QUERY|show ID|export ID... --to DIR|import DIR|backup FILE|restore FILE|undo-restore|rebuild|start-empty|quarantine');
}

async function modelsCommand(cli: Cli, sub: string | undefined, rest: string[]): Promise<number> {
  if (sub === 'list') {
    const { items } = await cli.call('models.list', {});
    cli.print({ items }, () => (items.length ? items.map((m) => `${m.id.padEnd(30)} ${m.kind.padEnd(5)} ${(m.bytes / 1e6).toFixed(1).padStart(8)} MB  ${m.path}`).join('\n') : 'No models installed. Import a folder with: atelier models import DIR'));
    return 0;
  }
  if (sub === 'inspect') {
    const dir = path.resolve(rest[0] ?? need(undefined, 'dir'));
    const studio = await cli.studio();
    const inspection = await studio.engine.request<ModelInspection>({ type: 'inspect', modelDir: dir });
    cli.print(inspection, () => [`${dir}: ${inspection.kind}${inspection.architecture ? ` (${inspection.architecture})` : ''}, ${(inspection.totalBytes / 1e6).toFixed(1)} MB`, ...(inspection.ok ? ['Layout is complete.'] : inspection.problems.map((p) => `  - ${p}`))].join('\n'));
    return inspection.ok ? 0 : 1;
  }
  if (sub === 'import') {
    if (looksLikeUpscaler(path.resolve(rest[0] ?? ''))) return upscaleImportCommand(cli, path.resolve(rest[0]!));
    const model = await cli.call('models.import', { path: path.resolve(rest[0] ?? need(undefined, 'dir')), name: cli.values.name });
    cli.print(model, () => `Imported ${model.id} (${model.kind}) from ${model.path}`);
    return 0;
  }
  if (sub === 'add-remote') {
    // The same call as Settings → Text servers: one address policy and one check that the server offers the model.
    const model = need(cli.values['remote-model'], 'remote-model');
    const baseUrl = need(cli.values['base-url'], 'base-url');
    const registered = await cli.call('models.addRemote', { baseUrl, model, name: cli.values.name, allowHttp: cli.values['allow-http'], apiKeyEnv: cli.values['api-key-env'] });
    cli.print(registered, () => `Registered ${registered.id}: ${model} on ${baseUrl}`);
    return 0;
  }
  if (sub === 'discover') {
    const found = findLocalGgufModels();
    if (!cli.values.import) {
      cli.print({ items: found }, () => (found.length ? found.map((m) => `${m.source.padEnd(8)} ${(m.bytes / 1e9).toFixed(2).padStart(6)} GB  ${m.name}  ${m.path}`).join('\n') : 'No LM Studio or Ollama models found on this machine.'));
      return 0;
    }
    const imported: CallOutput<'models.import'>[] = [];
    for (const model of found) imported.push(await cli.call('models.import', { path: model.path, name: model.name }));
    cli.print({ items: imported }, () => (imported.length ? imported.map((m) => `Registered ${m.id} (in place) from ${m.path}`).join('\n') : 'No LM Studio or Ollama models found on this machine.'));
    return 0;
  }
  if (sub === 'pull') {
    const studio = await cli.studio();
    return modelsPullCommand(studio.models, rest[0] ?? need(undefined, 'repo'), { files: cli.values.files, dtype: cli.values.dtype as Dtype | undefined, quant: cli.values.quant, name: cli.values.name, json: cli.values.json });
  }
  if (sub === 'rm') {
    const studio = await cli.studio();
    return modelsRemoveCommand(studio.models, rest[0] ?? need(undefined, 'id'), { json: cli.values.json });
  }
  if (sub === 'verify') {
    const studio = await cli.studio();
    return modelsVerifyCommand(studio.models, rest[0] ?? need(undefined, 'id'), { json: cli.values.json });
  }
  throw new StudioError('INVALID_INPUT', 'Try: atelier models list|inspect DIR|import DIR|discover [--import]|pull REPO[@REVISION]|rm ID|verify ID');
}

function rendererDir(): string | undefined {
  const candidates = [path.resolve(__dirname, '../renderer'), path.resolve(__dirname, '../../../out/renderer')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
}

function startOpenAiEndpoint(studio: Studio, cli: Cli): Promise<OpenAiServer> {
  return startOpenAiServer(
    {
      // Models on other servers are not offered again: one added from this very endpoint would have the engine wait on itself.
      textModels: () => studio.library.listModels().filter((m) => m.kind === 'text' && !m.path.toLowerCase().endsWith('.openai.json')),
      engine: studio.engine,
      onEngineStream: (listener) => studio.onEngineStream(listener),
      stagingDir: studio.layout.stagingDir,
    },
    { port: num(cli.values['openai-port'], 'openai-port'), ...(cli.values['openai-key'] ? { apiKey: cli.values['openai-key'] } : {}) },
  );
}

async function serve(cli: Cli): Promise<number> {
  const studio = await cli.studio();
  const staticDir = rendererDir();
  if (!staticDir) process.stderr.write('The renderer is not built yet: run `npm run build` (npm run serve does it for you).\n');
  const server = await startBrowserServer({
    dispatch: studio.dispatch,
    events: studio.events,
    assets: studio.assets,
    filesRoot: studio.filesRoot,
    staticDir,
    // The same port every time for this library, so the page's storage (theme, layout) survives restarts.
    portFile: path.join(studio.layout.libraryDir, 'browser-port.json'),
    host: cli.values.host,
    port: num(cli.values.port, 'port'),
  });
  const openai = cli.values.openai ? await startOpenAiEndpoint(studio, cli) : null;
  if (cli.values.json) process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, token: server.token, ...(openai ? { openaiUrl: openai.url } : {}) })}\n`);
  else {
    process.stdout.write(`Atelier is running in browser mode. Open:\n\n  ${server.url}\n\nPress Ctrl+C to stop.\n`);
    if (openai) process.stdout.write(`\nOpenAI-compatible endpoint for the installed text models: ${openai.url}\n`);
  }
  if (server.rememberedPortTaken !== null) {
    process.stderr.write(`Port ${server.rememberedPortTaken}, which this library used before, is taken: this time Atelier uses ${server.port} (the page's saved theme and layout belong to the other port).\n`);
  }
  const stop = async () => {
    await openai?.close();
    await server.close();
    await studio.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  return new Promise<number>(() => undefined);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const shape = error instanceof Error && 'code' in error && (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? { code: 'INVALID_INPUT', message: `${error.message}. See atelier --help.` } : toErrorShape(error);
    process.stderr.write(`atelier: ${shape.message} [${shape.code}]\n`);
    process.exit(shape.code === 'INVALID_INPUT' ? 2 : 1);
  },
);
