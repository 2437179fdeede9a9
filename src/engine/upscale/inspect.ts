import { statSync } from 'node:fs';
import type { UpscaleModelSummary } from '../../shared/engine-protocol';
import type { EngineContext } from '../runtime/context';
import { loadUpscaleModel } from './model';

/**
 * Import-time check of a super-resolution folder: it loads (converting a TF.js model), and one
 * probe run shows it enlarges an RGB picture by a whole factor. A folder that is not such a model
 * is refused with MODEL_INVALID and the reason (from loadUpscaleModel / describeUpscaleSession).
 */
export async function inspectUpscaleModel(ctx: EngineContext, modelDir: string, cacheDir: string): Promise<UpscaleModelSummary> {
  const { info } = await loadUpscaleModel(ctx.sessions, modelDir, cacheDir);
  return {
    scale: info.scale,
    format: info.format,
    inputName: info.inputName,
    outputName: info.outputName,
    inputType: info.inputType,
    fixedSize: info.fixedSize,
    bytes: statSync(info.file).size,
  };
}
