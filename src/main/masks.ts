import { promises as fs } from 'node:fs';
import path from 'node:path';
import { StudioError } from '../shared/errors';
import type { Handlers } from './ipc/dispatch';
import type { Library } from './library';
import { MASK_MODEL } from './library/generation-rows';
import type { DataLayout } from './paths';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Masks painted in the Image view. The renderer has the pixels (it painted them), so the PNG
 * crosses once, as a data URL; from then on it is a library asset like an init image, named by id
 * in the job's params (maskAssetId), so a remix finds the very same mask.
 */
export function maskHandlers(deps: { library: Library; layout: DataLayout }): Pick<Handlers, 'image.saveMask'> {
  return {
    'image.saveMask': async ({ png }) => {
      const bytes = Buffer.from(png.slice('data:image/png;base64,'.length), 'base64');
      if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) throw new StudioError('INVALID_INPUT', 'The mask is not a PNG picture.');
      await fs.mkdir(deps.layout.stagingDir, { recursive: true });
      const staged = path.join(deps.layout.stagingDir, `mask-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.png`);
      try {
        await fs.writeFile(staged, bytes);
        const generation = await deps.library.commitGeneration({
          kind: 'image',
          model: MASK_MODEL,
          prompt: 'Inpainting mask',
          params: { source: 'mask' },
          files: [{ sourcePath: staged, mime: 'image/png', role: 'mask' }],
        });
        const asset = generation.assets[0];
        if (!asset) throw new StudioError('INTERNAL', 'The mask was not stored.');
        return { assetId: asset.id };
      } finally {
        await fs.rm(staged, { force: true });
      }
    },
  };
}
