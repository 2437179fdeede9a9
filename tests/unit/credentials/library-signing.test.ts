import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSigningIdentity, type SigningIdentity } from '../../../src/main/credentials/identity';
import { signCommittedPictures, unsignedReasonOf, type LibrarySigningDeps } from '../../../src/main/credentials/library-signing';
import { readCredentials } from '../../../src/main/credentials/read';
import type { CommitGenerationInput } from '../../../src/main/library';

let dir: string;
let identity: SigningIdentity;
let png: Buffer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-library-signing-'));
  identity = await ensureSigningIdentity(path.join(dir, 'data'));
  png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#336699' } }).png().toBuffer();
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function staged(name: string): CommitGenerationInput {
  const picture = path.join(dir, `${name}.png`);
  const mask = path.join(dir, `${name}-mask.png`);
  fs.writeFileSync(picture, png);
  fs.writeFileSync(mask, png);
  return {
    kind: 'image',
    model: 'painter',
    prompt: 'a blue square',
    seed: 1,
    params: { model: 'painter', meta: { note: 'kept' } },
    files: [
      { sourcePath: picture, mime: 'image/png', role: 'image' },
      { sourcePath: mask, mime: 'image/png', role: 'mask' },
    ],
  };
}

function deps(over: Partial<LibrarySigningDeps>): LibrarySigningDeps {
  return {
    library: { findGeneration: () => null, resolveAsset: () => null, listAncestors: () => [] },
    enabled: () => true,
    signing: () => Promise.resolve({ signing: { identity, generatorVersion: 'test' } }),
    ...over,
  };
}

describe('signCommittedPictures', () => {
  it('signs the staged picture in place and leaves the mask copy as it was', async () => {
    const commit = staged('ok');
    const out = await signCommittedPictures(deps({}), commit);
    expect(out).toBe(commit);
    const [picture, mask] = commit.files!;
    expect((await readCredentials(fs.readFileSync(picture!.sourcePath), 'image/png', { trustAnchorsPem: identity.caPem })).state).toBe('trusted');
    expect(fs.readFileSync(mask!.sourcePath).equals(png)).toBe(true);
  });

  it('where the C2PA library cannot load, keeps the picture as the engine wrote it and records why, beside the engine’s own notes', async () => {
    const commit = staged('absent');
    const out = await signCommittedPictures(deps({ signing: () => Promise.resolve({ unsigned: 'Content Credentials are not available on this system' }) }), commit);
    expect(fs.readFileSync(commit.files![0]!.sourcePath).equals(png)).toBe(true);
    expect(unsignedReasonOf(out.params!)).toBe('Content Credentials are not available on this system');
    expect(out.params!.meta).toMatchObject({ note: 'kept' });
  });

  it('when signing throws, the staged picture is untouched and the reason says so; it never throws itself', async () => {
    const commit = staged('broken');
    const broken = { ...identity, keyPem: '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n' };
    const out = await signCommittedPictures(deps({ signing: () => Promise.resolve({ signing: { identity: broken, generatorVersion: 'test' } }) }), commit);
    expect(fs.readFileSync(commit.files![0]!.sourcePath).equals(png)).toBe(true);
    expect(unsignedReasonOf(out.params!)).toMatch(/^signing failed: /);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.signed'))).toEqual([]);
  });

  it('leaves a generation without pictures (text, music) alone, even with signing off', async () => {
    const text: CommitGenerationInput = { kind: 'text', model: 'writer', params: {}, outputText: 'hello', files: [] };
    expect(await signCommittedPictures(deps({ enabled: () => false }), text)).toBe(text);
  });
});
