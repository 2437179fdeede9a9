import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../src/engine/media/png';
import type { Studio } from '../../src/main/studio';
import { openStudio, tempDataDir } from './helpers/studio-fixtures';

/** image.saveMask through the real dispatcher, as the Image view calls it. */
describe('image.saveMask', () => {
  let studio: Studio;

  beforeAll(async () => {
    studio = await openStudio(tempDataDir());
  });

  afterAll(async () => {
    await studio?.close();
  });

  it('stores a painted mask as a library asset, byte for byte, and names it by id', async () => {
    const png = encodePng(new Uint8Array(16 * 16 * 3).map((_, i) => (i % 48 < 24 ? 255 : 0)), 16, 16, 3);
    const result = await studio.dispatch('image.saveMask', { png: `data:image/png;base64,${png.toString('base64')}` }, { transport: 'websocket' });
    if (!result.ok) throw new Error(result.error.message);
    const { assetId } = result.value as { assetId: string };
    const owner = studio.library.findAssetOwner(assetId);
    expect(owner).not.toBeNull();
    const generation = studio.library.getGeneration(owner!.generationId);
    expect(generation.assets[0]).toMatchObject({ id: assetId, role: 'mask', mime: 'image/png' });
    expect(readFileSync(studio.library.resolveAsset(assetId)!.path).equals(png)).toBe(true);
  });

  it('refuses what is not a PNG', async () => {
    const result = await studio.dispatch('image.saveMask', { png: `data:image/png;base64,${Buffer.from('GIF89a not a png').toString('base64')}` }, { transport: 'websocket' });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });
});
