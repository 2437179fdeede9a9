import path from 'node:path';
import type { Handlers } from '../ipc/dispatch';
import type { UpscaleModels } from './models';

type UpscaleCalls = 'upscale.models' | 'upscale.import' | 'upscale.remove';

/** The upscale calls; jobs themselves go through jobs.start (an image job in upscale mode). */
export function upscaleHandlers(deps: { upscalers: UpscaleModels }): Pick<Handlers, UpscaleCalls> {
  return {
    'upscale.models': () => ({ items: deps.upscalers.list() }),
    'upscale.import': ({ path: dir, name }) => deps.upscalers.importFolder(path.resolve(dir), name),
    'upscale.remove': ({ id }) => deps.upscalers.remove(id),
  };
}
