import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { oracleImageEmbedding, oracleTextEmbedding } from '../../../scripts/fixtures/embed';
import { embed } from '../../../src/engine/embed/embed';
import { createEngineContext } from '../../../src/engine/runtime/context';
import { StudioError } from '../../../src/shared/errors';
import { getFixtures, tempDir } from './helpers';

const ctx = createEngineContext({ provider: 'cpu' });

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

async function solidPng(dir: string, name: string, rgb: [number, number, number]): Promise<string> {
  const file = path.join(dir, `${name}.png`);
  await sharp({ create: { width: 40, height: 24, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(file);
  return file;
}

describe('embedding models through transformers.js', () => {
  it('embeds pictures and prompts with a CLIP-layout model into the oracle vectors', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    const red = await solidPng(dir, 'red', [255, 0, 0]);
    const teal = await solidPng(dir, 'teal', [0, 128, 128]);
    const result = await embed(ctx, f.embedClipOracle, [
      { type: 'image', path: red },
      { type: 'text', text: 'A RED apple' },
      { type: 'image', path: teal },
      { type: 'text', text: 'the sky at night' },
    ]);
    expect(result.family).toBe('clip');
    expect(result.dim).toBe(4);
    const expected = [
      unit(oracleImageEmbedding([1, 0, 0])),
      unit(oracleTextEmbedding('a red apple')),
      unit(oracleImageEmbedding([0, 128 / 255, 128 / 255])),
      unit(oracleTextEmbedding('the sky at night')),
    ];
    result.vectors.forEach((v, i) => v.forEach((x, j) => expect(x).toBeCloseTo(expected[i]![j]!, 2)));
    // The red prompt sits closest to the red picture.
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(dot(result.vectors[1]!, result.vectors[0]!)).toBeGreaterThan(0.99);
    expect(dot(result.vectors[1]!, result.vectors[2]!)).toBeLessThan(0);
  });

  it('mean-pools a sentence embedder over the attention mask, whatever the padding', async () => {
    const f = await getFixtures();
    const result = await embed(ctx, f.embedTextOracle, [
      { type: 'text', text: 'blue' },
      { type: 'text', text: 'the car was blue and the sea was blue' },
      { type: 'text', text: 'a green field' },
    ]);
    expect(result.family).toBe('text');
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    const blue = unit(oracleTextEmbedding('blue'));
    const green = unit(oracleTextEmbedding('green'));
    // A one-word text is exactly the word's vector; a longer one points the same way.
    result.vectors[0]!.forEach((x, j) => expect(x).toBeCloseTo(blue[j]!, 4));
    expect(dot(result.vectors[1]!, blue)).toBeGreaterThan(0.9);
    expect(dot(result.vectors[2]!, green)).toBeGreaterThan(0.9);
    expect(dot(result.vectors[2]!, blue)).toBeLessThan(0);
  });

  it('refuses pictures with a text-only model', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    const file = await solidPng(dir, 'blue', [0, 0, 255]);
    await expect(embed(ctx, f.embedTextOracle, [{ type: 'image', path: file }])).rejects.toThrow(StudioError);
  });
});
