import { deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, openApp, closeApp, type AppSession } from './harness';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Inserts text chunks right before IEND, the way other tools write them. */
function withText(png: Buffer, chunks: { type: 'tEXt' | 'zTXt'; keyword: string; text: string }[]): Buffer {
  const iend = png.length - 12;
  const extra = chunks.map(({ type, keyword, text }) =>
    type === 'tEXt'
      ? chunk('tEXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]))
      : chunk('zTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0]), deflateSync(Buffer.from(text, 'latin1'))])),
  );
  return Buffer.concat([png.subarray(0, iend), ...extra, png.subarray(iend)]);
}

async function picture(): Promise<Buffer> {
  return sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toBuffer();
}

const A1111 = [
  'a copper kettle on a windowsill, morning light',
  'Negative prompt: blurry, watermark',
  'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 424242, Size: 768x512, Model hash: abc123, Model: dreamy_v1',
].join('\n');

const COMFY = JSON.stringify({
  '3': { class_type: 'KSampler', inputs: { seed: 777, steps: 12, cfg: 4, sampler_name: 'euler_ancestral', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 640, height: 384, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a paper boat in the rain', clip: ['4', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'text, signature', clip: ['4', 1] } },
});

describe('loading parameters from a PNG in the Image view', () => {
  let app: AppSession;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    app = await openApp();
    ({ page, errors } = app);
    await page.getByTestId('nav-image').click();
    await page.getByTestId('view-image').waitFor();
  });

  afterAll(async () => {
    await closeApp(app);
  });

  async function form() {
    return {
      prompt: await page.getByTestId('image-prompt').inputValue(),
      negative: await page.locator('#image-negative').inputValue(),
      steps: await page.locator('#image-steps').inputValue(),
      guidance: await page.locator('#image-guidance').inputValue(),
      seed: await page.locator('#image-seed-value').inputValue(),
      width: await page.locator('#image-width').inputValue(),
      height: await page.locator('#image-height').inputValue(),
      scheduler: await page.locator('#image-scheduler').inputValue(),
    };
  }

  it('dropping an AUTOMATIC1111 PNG fills the form', async () => {
    const png = withText(await picture(), [{ type: 'tEXt', keyword: 'parameters', text: A1111 }]);
    await page.evaluate(
      ([bytes]) => {
        const file = new File([new Uint8Array(bytes)], 'kettle.png', { type: 'image/png' });
        const data = new DataTransfer();
        data.items.add(file);
        const target = document.querySelector('[data-testid="image-drop"]');
        if (!target) throw new Error('no drop zone');
        target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
        target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      },
      [[...png]] as const,
    );
    await expect.poll(() => page.getByTestId('image-import-note').textContent(), { timeout: 60_000 }).toContain('AUTOMATIC1111');
    expect(await form()).toEqual({
      prompt: 'a copper kettle on a windowsill, morning light',
      negative: 'blurry, watermark',
      steps: '28',
      guidance: '6.5',
      seed: '424242',
      width: '768',
      height: '512',
      scheduler: 'dpmpp-2m-karras',
    });
    await screenshot(page, 'image-drop-a1111');
  });

  it('choosing a ComfyUI PNG (compressed prompt chunk) fills the form', async () => {
    const png = withText(await picture(), [{ type: 'zTXt', keyword: 'prompt', text: COMFY }]);
    await page.getByTestId('image-load-png').setInputFiles({ name: 'boat.png', mimeType: 'image/png', buffer: png });
    await expect.poll(() => page.getByTestId('image-import-note').textContent(), { timeout: 60_000 }).toContain('ComfyUI');
    expect(await form()).toEqual({
      prompt: 'a paper boat in the rain',
      negative: 'text, signature',
      steps: '12',
      guidance: '4',
      seed: '777',
      width: '640',
      height: '384',
      scheduler: 'euler-a',
    });
  });

  it('says so when a PNG carries no parameters', async () => {
    await page.getByTestId('image-load-png').setInputFiles({ name: 'plain.png', mimeType: 'image/png', buffer: await picture() });
    await expect.poll(() => page.getByTestId('image-import-note').textContent(), { timeout: 60_000 }).toContain('no parameters');
  });

  it('reported no page errors', () => {
    expect(errors).toEqual([]);
  });
});
