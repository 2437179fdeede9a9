import { existsSync, promises as fs, readdirSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import type { CallInput, CallName, CallOutput, Generation } from '../../shared/contract';
import type { RunResult } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import { UpscaleParams, type UpscaleModel } from '../../shared/upscale';
import { EngineHost } from '../engine-host/host';
import { spawnNodeEngine } from '../engine-host/spawn-node';
import { dataLayout, defaultDataDir } from '../paths';
import type { Studio } from '../studio';
import { UpscaleModels } from './models';

/**
 * `atelier upscale IMAGE --model ID|DIR [--scale N] [--tile N] [--overlap N] --out FILE [--library DIR] [--json]`
 *
 * With --library the picture goes into that library (as an import), the upscale runs as a job there and the result is a generation whose parent is the
 * picture: lineage, provenance and the model/scale/tile settings are recorded like in the app.
 * Without --library it is a file-to-file tool: the engine runs alone, no library is opened or
 * locked (converted models are still cached in the default data folder).
 */
export interface UpscaleCli {
  values: { library?: string; json?: boolean; model?: string; scale?: string; tile?: string; overlap?: string; out?: string; name?: string };
  studio(): Promise<Studio>;
  call<N extends CallName>(name: N, input: CallInput<N>): Promise<CallOutput<N>>;
  print(value: unknown, human: () => string): void;
}

function int(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new StudioError('INVALID_INPUT', `--${flag} needs a whole number, got "${value}".`);
  return n;
}

function progress(step: number, total: number): void {
  process.stderr.write(`\rtile ${step}/${total}`);
}

export async function upscaleCommand(cli: UpscaleCli, positionals: (string | undefined)[]): Promise<number> {
  const image = positionals[0];
  if (!image) throw new StudioError('INVALID_INPUT', 'Usage: atelier upscale IMAGE --model ID|DIR [--scale N] [--tile N] --out FILE [--library DIR] [--json]');
  const source = path.resolve(image);
  if (!existsSync(source) || !statSync(source).isFile()) throw new StudioError('NOT_FOUND', `${source} is not a picture file.`);
  const out = cli.values.out;
  if (!out) throw new StudioError('INVALID_INPUT', '--out is required: the file to write the upscaled PNG to.');
  const model = cli.values.model;
  if (!model) throw new StudioError('INVALID_INPUT', '--model is required: a bundled upscaler (e.g. esrgan-slim-x4), an imported one, or a folder.');
  const modelArg = existsSync(model) ? path.resolve(model) : model;
  const params = UpscaleParams.parse({ mode: 'upscale', model: modelArg, scale: int(cli.values.scale, 'scale'), tile: int(cli.values.tile, 'tile'), overlap: int(cli.values.overlap, 'overlap') });
  const target = path.resolve(out);
  await fs.mkdir(path.dirname(target), { recursive: true });
  return cli.values.library ? upscaleIntoLibrary(cli, source, params, target) : upscaleFile(source, params, target, cli);
}

async function upscaleFile(source: string, params: UpscaleParams, target: string, cli: UpscaleCli): Promise<number> {
  const layout = dataLayout(path.resolve(defaultDataDir()));
  const upscalers = new UpscaleModels({ modelsDir: layout.modelsDir });
  const modelDir = upscalers.resolve(params.model, true);
  const outDir = await mkdtemp(path.join(path.dirname(target), '.atelier-upscale-'));
  const engine = new EngineHost(() => spawnNodeEngine(), {
    onStream: (message) => {
      if (message.type === 'progress') progress(message.step, message.totalSteps);
    },
  });
  try {
    const result = await engine.request<RunResult>({ type: 'run', jobId: `cli-${process.pid}`, modelDir, outDir, run: { kind: 'upscale', params, sourcePath: source, cacheDir: upscalers.cacheDir } });
    process.stderr.write('\n');
    const png = result.outputs.find((o) => o.role === 'image');
    if (!png) throw new StudioError('INTERNAL', 'The engine wrote no picture.');
    await fs.copyFile(png.path, target);
    const meta = (result.meta?.upscale ?? {}) as Record<string, unknown>;
    cli.print({ file: target, width: png.width, height: png.height, provider: result.provider, model: params.model, ...meta, timings: result.timings }, () => `${target} (${png.width}×${png.height}, ×${String(meta.scale)}, ${result.provider})`);
    return 0;
  } finally {
    await engine.stop();
    await fs.rm(outDir, { recursive: true, force: true });
  }
}

async function upscaleIntoLibrary(cli: UpscaleCli, source: string, params: UpscaleParams, target: string): Promise<number> {
  const studio = await cli.studio();
  const parent = await importPicture(studio, source);
  const asset = parent.assets.find((a) => a.role === 'image');
  if (!asset) throw new StudioError('INVALID_INPUT', `${source} was not stored as a picture.`);
  const unsubscribe = studio.events.subscribe((event, payload) => {
    if (event === 'jobs.progress') {
      const p = payload as { step: number; totalSteps: number };
      progress(p.step, p.totalSteps);
    }
  });
  const { jobId } = await cli.call('jobs.start', { kind: 'image', params: { ...params, sourceAssetId: asset.id }, parentId: parent.id });
  const job = await studio.queue.waitFor(jobId);
  unsubscribe();
  process.stderr.write('\n');
  if (job.state !== 'done') throw new StudioError((job.error?.code as StudioError['code']) ?? 'CANCELLED', job.error?.message ?? `The upscale ended as ${job.state}.`);
  const generation = studio.library.getGeneration(job.generationIds[0]!);
  const output = generation.assets.find((a) => a.role === 'image');
  const file = output ? studio.library.resolveAsset(output.id) : null;
  if (!output || !file) throw new StudioError('INTERNAL', 'The upscaled picture is missing from the library.');
  await fs.copyFile(file.path, target);
  cli.print(
    { file: target, generationId: generation.id, parentId: generation.parentId, width: output.width, height: output.height, provider: generation.provider, params: generation.params },
    () => `${target} (${output.width}×${output.height}) — generation ${generation.id}, from ${parent.id}`,
  );
  return 0;
}

/** The picture as a library generation (an import), so the upscale can name it as its parent. */
async function importPicture(studio: Studio, file: string): Promise<Generation> {
  const staged = path.join(studio.layout.stagingDir, `upscale-source-${Date.now()}${path.extname(file) || '.png'}`);
  const mime = /\.jpe?g$/i.test(file) ? 'image/jpeg' : /\.webp$/i.test(file) ? 'image/webp' : 'image/png';
  try {
    await fs.copyFile(file, staged);
    return await studio.library.commitGeneration({
      kind: 'image',
      model: 'import',
      prompt: `Imported ${path.basename(file)}`,
      params: { source: 'import', file: path.basename(file) },
      files: [{ sourcePath: staged, mime, role: 'image' }],
    });
  } finally {
    await fs.rm(staged, { force: true });
  }
}

/**
 * Whether `atelier models import DIR` should treat a folder as an upscaler: a TF.js layers
 * model.json, or .onnx files at its top level without the config files of text, image or music
 * models (config.json, model_index.json). The engine then decides, and refuses with the reason.
 */
export function looksLikeUpscaler(dir: string): boolean {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
  const names = readdirSync(dir);
  if (names.includes('model.json')) return true;
  return names.some((n) => n.endsWith('.onnx')) && !names.includes('config.json') && !names.includes('model_index.json');
}

export async function upscaleImportCommand(cli: UpscaleCli, dir: string): Promise<number> {
  const model: UpscaleModel = await cli.call('upscale.import', { path: dir, name: cli.values.name });
  cli.print(model, () => `Imported ${model.id} (upscaler ×${model.scale}, ${model.format}) from ${model.path}`);
  return 0;
}
