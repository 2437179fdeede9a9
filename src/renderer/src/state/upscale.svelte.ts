import type { Generation } from '../../../shared/contract';
import type { BundledUpscaler, UpscaleModel } from '../../../shared/upscale';
import { attempt, messageOf } from '../lib/errors';
import { toasts } from './toasts.svelte';

export type UpscaleFamily = BundledUpscaler['family'];

/** The bundled families, fastest first (a type-checked copy, so zod stays out of the renderer bundle). */
export const UPSCALE_FAMILIES: readonly { id: UpscaleFamily; label: string }[] = [
  { id: 'esrgan-slim', label: 'ESRGAN slim (fast)' },
  { id: 'esrgan-medium', label: 'ESRGAN medium' },
  { id: 'esrgan-thick', label: 'ESRGAN thick (best, slow)' },
];

/**
 * "Upscale ×2 / ×4" wherever a picture is shown: queues an image job in upscale mode with the
 * picture as its source and its generation as the parent, so the result lands in the library as
 * a child with lineage. The family chosen applies to both factors.
 */
class Upscaler {
  family = $state<UpscaleFamily>('esrgan-slim');
  /** Generation ids with an upscale being queued (the buttons show it and do not double-queue). */
  starting = $state.raw<string[]>([]);
  /** The original and its upscale shown in the Library's split compare; null when closed. */
  compare = $state.raw<{ original: Generation; upscaled: Generation } | null>(null);
  /** Bundled and imported upscalers, for the Models view. */
  models = $state.raw<UpscaleModel[]>([]);
  error = $state<string | null>(null);
  importing = $state(false);

  async load(): Promise<void> {
    await attempt(async () => {
      this.models = (await window.studio.upscale.models({})).items;
      this.error = null;
    }, { error: (message) => (this.error = message) });
  }

  /** Imports a super-resolution folder; false, with `error` set to the engine's reason, when refused. */
  async importFolder(path: string, name?: string): Promise<boolean> {
    return attempt(
      async () => {
        const model = await window.studio.upscale.import({ path, ...(name ? { name } : {}) });
        toasts.show(`Imported ${model.name} (upscaler ×${model.scale})`, 'success');
        this.error = null;
        await this.load();
      },
      { error: (message) => (this.error = message), busy: (on) => (this.importing = on) },
    );
  }

  async remove(id: string): Promise<void> {
    await attempt(async () => {
      await window.studio.upscale.remove({ id });
      await this.load();
    }, { error: (message) => (this.error = message) });
  }

  sourceOf(g: Generation) {
    return g.assets.find((a) => a.role === 'image' && a.mime.startsWith('image/'));
  }

  isUpscale(g: Generation): boolean {
    return g.params['mode'] === 'upscale' && g.parentId !== null;
  }

  /** Opens the split compare of an upscale and the picture it came from. */
  async openCompare(upscaled: Generation): Promise<void> {
    if (!upscaled.parentId) return;
    try {
      this.compare = { original: await window.studio.library.get({ id: upscaled.parentId }), upscaled };
    } catch (error) {
      toasts.error(`Could not open the original: ${messageOf(error)}`);
    }
  }

  /** Queues an upscale of every picture among `ids` (other kinds are skipped and counted). */
  async upscaleMany(ids: string[], scale: 2 | 4): Promise<number> {
    let queued = 0;
    let skipped = 0;
    for (const id of ids) {
      const g = await window.studio.library.get({ id }).catch(() => null);
      if (!g || g.kind !== 'image' || !this.sourceOf(g) || g.deletedAt !== null) {
        skipped++;
        continue;
      }
      if (await this.upscale(g, scale, false)) queued++;
    }
    toasts.show(`${queued} upscale${queued === 1 ? '' : 's'} ×${scale} queued${skipped ? ` (${skipped} item${skipped === 1 ? '' : 's'} without a picture skipped)` : ''}.`, queued ? 'info' : 'error');
    return queued;
  }

  async upscale(g: Generation, scale: 2 | 4, announce = true): Promise<string | null> {
    const source = this.sourceOf(g);
    if (!source) {
      toasts.error('This item has no picture to upscale.');
      return null;
    }
    this.starting = [...this.starting, g.id];
    try {
      const { jobId } = await window.studio.jobs.start({
        kind: 'image',
        params: { mode: 'upscale', model: `${this.family}-x${scale}`, sourceAssetId: source.id, scale },
        parentId: g.id,
      });
      if (announce) toasts.show(`Upscale ×${scale} queued — the result appears in the Library as a child of this picture.`, 'info');
      return jobId;
    } catch (error) {
      toasts.error(`Could not upscale: ${messageOf(error)}`);
      return null;
    } finally {
      this.starting = this.starting.filter((id) => id !== g.id);
    }
  }
}

export const upscaler = new Upscaler();
