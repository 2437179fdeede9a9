import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { UpscaleModelSummary } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import { BUNDLED_UPSCALERS, findBundledUpscaler, type BundledUpscaler, type UpscaleModel } from '../../shared/upscale';

import { writeJsonDurably } from '../models/write-json-durably';
import { bundledUpscalerDir } from './bundled';

/**
 * The upscale models: the bundled ESRGAN models (from their npm packages, always installed when
 * the packages are) and the folders a person imported (Real-ESRGAN-style ONNX folders, or TF.js
 * layers folders). Imported ones are listed in `<modelsDir>/upscalers.json`, written durably;
 * they are not rows of the library's models table, whose kinds are text/image/music, so they
 * never show up as diffusion models in the Image view's picker.
 */
const Imported = z.object({
  id: z.string(),
  name: z.string(),
  path: z.string(),
  scale: z.number().int(),
  format: z.enum(['onnx', 'tfjs']),
  bytes: z.number(),
  importedAt: z.number(),
});
const RegistryFile = z.object({ version: z.literal(1), models: z.array(Imported) });
type Imported = z.infer<typeof Imported>;

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'upscaler'
  );
}

export interface UpscaleModelsDeps {
  modelsDir: string;
  /** The engine's load + probe of a folder (MODEL_INVALID with the reason when it is not an upscaler); needed only to import. */
  inspect?(dir: string): Promise<UpscaleModelSummary>;
  /** Where to look for the bundled packages (defaults to this module's own node_modules chain). */
  packagesFrom?: string;
}

export class UpscaleModels {
  constructor(private readonly deps: UpscaleModelsDeps) {}

  /** Where converted TF.js models are cached. */
  get cacheDir(): string {
    return path.join(this.deps.modelsDir, 'converted');
  }

  private get registryFile(): string {
    return path.join(this.deps.modelsDir, 'upscalers.json');
  }

  private readImported(): Imported[] {
    if (!existsSync(this.registryFile)) return [];
    let parsed: ReturnType<typeof RegistryFile.safeParse>;
    try {
      parsed = RegistryFile.safeParse(JSON.parse(readFileSync(this.registryFile, 'utf8')));
    } catch {
      parsed = RegistryFile.safeParse(null);
    }
    // A damaged list is reported, never read as empty: the next import would overwrite it.
    if (!parsed.success) throw new StudioError('INTERNAL', `${this.registryFile} is damaged. Move it aside and import your upscalers again.`);
    return parsed.data.models;
  }

  private bundledEntry(model: BundledUpscaler): UpscaleModel {
    const dir = bundledUpscalerDir(model, this.deps.packagesFrom);
    return {
      id: model.id,
      name: model.title,
      scale: model.scale,
      source: 'bundled',
      format: 'tfjs',
      installed: dir !== null,
      bytes: model.approxBytes,
      licence: `${model.licence.id} — ${model.licence.holder}`,
      path: dir,
    };
  }

  list(): UpscaleModel[] {
    return [
      ...BUNDLED_UPSCALERS.map((m) => this.bundledEntry(m)),
      ...this.readImported().map((m) => ({ id: m.id, name: m.name, scale: m.scale, source: 'imported' as const, format: m.format, installed: existsSync(m.path), bytes: m.bytes, licence: null, path: m.path })),
    ];
  }

  /**
   * The folder of a model id, or (CLI only) a folder path given directly. Refuses with
   * MODEL_NOT_INSTALLED and what to do.
   */
  resolve(model: string, allowPaths: boolean): string {
    const bundled = findBundledUpscaler(model);
    if (bundled) {
      const dir = bundledUpscalerDir(bundled, this.deps.packagesFrom);
      if (!dir) throw new StudioError('MODEL_NOT_INSTALLED', `The bundled upscaler ${model} is missing: its package ${bundled.packageName} is not in node_modules. Run "npm ci" in Atelier's folder.`);
      return dir;
    }
    const imported = this.readImported().find((m) => m.id === model);
    if (imported) {
      if (!existsSync(imported.path)) throw new StudioError('MODEL_NOT_INSTALLED', `The upscaler ${model} was imported from ${imported.path}, which no longer exists. Import it again from the Models view.`);
      return imported.path;
    }
    if (allowPaths && path.isAbsolute(model) && existsSync(model)) return model;
    throw new StudioError('MODEL_NOT_INSTALLED', `The upscaler "${model}" is not installed. Pick a bundled one (${BUNDLED_UPSCALERS.map((m) => m.id).join(', ')}) or import a folder in the Models view.`);
  }

  /** Imports a folder after the engine loaded it and probed its scale; the same folder keeps its id. */
  async importFolder(dir: string, name?: string): Promise<UpscaleModel> {
    const absolute = path.resolve(dir);
    if (!existsSync(absolute) || !statSync(absolute).isDirectory()) throw new StudioError('INVALID_INPUT', `${absolute} is not a folder.`);
    if (!this.deps.inspect) throw new StudioError('INTERNAL', 'Importing an upscaler needs the engine.');
    const summary = await this.deps.inspect(absolute);
    const models = this.readImported();
    const existing = models.find((m) => m.path === absolute);
    const base = slug(name ?? path.basename(absolute));
    let id = existing?.id ?? base;
    for (let n = 2; !existing && (models.some((m) => m.id === id) || findBundledUpscaler(id)); n++) id = `${base}-${n}`;
    const entry: Imported = { id, name: name ?? path.basename(absolute), path: absolute, scale: summary.scale, format: summary.format, bytes: summary.bytes, importedAt: Date.now() };
    await writeJsonDurably(this.registryFile, { version: 1, models: [...models.filter((m) => m.id !== id), entry] } satisfies z.infer<typeof RegistryFile>);
    return { id, name: entry.name, scale: entry.scale, source: 'imported', format: entry.format, installed: true, bytes: entry.bytes, licence: null, path: absolute };
  }

  /** Forgets an imported upscaler (its folder is the user's and stays). */
  async remove(id: string): Promise<{ id: string }> {
    if (findBundledUpscaler(id)) throw new StudioError('INVALID_INPUT', `${id} ships with Atelier and cannot be removed.`);
    const models = this.readImported();
    if (!models.some((m) => m.id === id)) throw new StudioError('NOT_FOUND', `No imported upscaler is called ${id}.`);
    await writeJsonDurably(this.registryFile, { version: 1, models: models.filter((m) => m.id !== id) });
    return { id };
  }
}
