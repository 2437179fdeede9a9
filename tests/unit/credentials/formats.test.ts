import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSigningIdentity, type SigningIdentity } from '../../../src/main/credentials/identity';
import { readCredentials } from '../../../src/main/credentials/read';
import { SIGNABLE_MIME } from '../../../src/main/credentials/sdk';
import { signWithCredentials, type SignInput } from '../../../src/main/credentials/sign';

let dir: string;
let identity: SigningIdentity;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-c2pa-formats-'));
  identity = await ensureSigningIdentity(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function input(bytes: Buffer, mime: string): SignInput {
  return {
    bytes,
    mime,
    title: 'file',
    provenance: { version: 1, generator: 'Atelier', id: 'g', kind: 'image', model: 'm', modelDigest: null, prompt: 'p', negativePrompt: '', seed: 1, params: {}, provider: null, parentId: null, lineage: [], created: '2026-12-05T00:00:00.000Z', createdAt: 0 },
    parent: null,
    licence: null,
    generatorVersion: 'test',
  };
}

describe('which formats the C2PA SDK signs', () => {
  it.each([
    ['image/jpeg', () => sharp({ create: { width: 16, height: 16, channels: 3, background: '#345' } }).jpeg().toBuffer()],
    ['image/webp', () => sharp({ create: { width: 16, height: 16, channels: 3, background: '#345' } }).webp().toBuffer()],
  ])('%s: signed and read back as trusted', async (mime, make) => {
    expect(SIGNABLE_MIME.has(mime)).toBe(true);
    const signed = await signWithCredentials(identity, input(await make(), mime));
    expect((await readCredentials(signed, mime, { trustAnchorsPem: identity.caPem })).state).toBe('trusted');
  });

  it('Markdown: the SDK has no place for a manifest, so exports keep only the front matter', async () => {
    expect(SIGNABLE_MIME.has('text/markdown')).toBe(false);
    await expect(signWithCredentials(identity, input(Buffer.from('# Title\n'), 'text/markdown'))).rejects.toThrow(/unsupported/);
  });
});
