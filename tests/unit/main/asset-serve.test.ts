import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRange, serveAsset, type AssetLookup } from '../../../src/main/assets/serve';

async function bodyOf(stream: Readable | null): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('asset serving', () => {
  let root: string;
  let outside: string;
  const content = Buffer.from('0123456789abcdefghij');
  const rows = new Map<string, string>();
  const lookup: AssetLookup = { resolveAsset: (id) => (rows.has(id) ? { path: rows.get(id)!, mime: 'audio/wav' } : null) };

  beforeAll(() => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'atelier-assets-'));
    root = path.join(base, 'files');
    mkdirSync(root);
    outside = path.join(base, 'secret.txt');
    writeFileSync(outside, 'secret');
    writeFileSync(path.join(root, 'a.wav'), content);
    symlinkSync(outside, path.join(root, 'link.wav'));
    rows.set('GOOD', path.join(root, 'a.wav'));
    rows.set('ESCAPE', outside);
    rows.set('DOTS', path.join(root, '..', 'secret.txt'));
    rows.set('LINK', path.join(root, 'link.wav'));
  });

  it('serves a whole file with its type and length', async () => {
    const answer = await serveAsset(lookup, root, 'GOOD');
    expect(answer.status).toBe(200);
    expect(answer.headers['Content-Type']).toBe('audio/wav');
    expect(answer.headers['Content-Length']).toBe('20');
    expect(answer.headers['Accept-Ranges']).toBe('bytes');
    expect(await bodyOf(answer.body)).toEqual(content);
  });

  it('answers a byte range with 206 and Content-Range', async () => {
    const answer = await serveAsset(lookup, root, 'GOOD', 'bytes=5-9');
    expect(answer.status).toBe(206);
    expect(answer.headers['Content-Range']).toBe('bytes 5-9/20');
    expect((await bodyOf(answer.body)).toString()).toBe('56789');
    const open = await serveAsset(lookup, root, 'GOOD', 'bytes=15-');
    expect((await bodyOf(open.body)).toString()).toBe('fghij');
    const suffix = await serveAsset(lookup, root, 'GOOD', 'bytes=-3');
    expect((await bodyOf(suffix.body)).toString()).toBe('hij');
  });

  it('answers an unsatisfiable range with 416', async () => {
    for (const header of ['bytes=20-', 'bytes=30-40', 'bytes=9-3', 'bytes=-0', 'items=0-1']) {
      const answer = await serveAsset(lookup, root, 'GOOD', header);
      expect(answer.status, header).toBe(416);
      expect(answer.headers['Content-Range']).toBe('bytes */20');
    }
  });

  it('refuses ids that look like paths, encoded or not', async () => {
    for (const id of ['..', '../secret.txt', '%2e%2e', '%2e%2e%2fsecret.txt', '/etc/passwd', 'C:\\Windows', 'a/b', '', 'x'.repeat(101)]) {
      expect((await serveAsset(lookup, root, id)).status, id).toBe(400);
    }
  });

  it('never serves a file outside the library folder, even through a symlink', async () => {
    expect((await serveAsset(lookup, root, 'ESCAPE')).status).toBe(403);
    expect((await serveAsset(lookup, root, 'DOTS')).status).toBe(403);
    expect((await serveAsset(lookup, root, 'LINK')).status).toBe(403);
    expect((await serveAsset(lookup, root, 'MISSING')).status).toBe(404);
  });

  it('parses ranges like browsers send them', () => {
    expect(parseRange(undefined, 10)).toBeNull();
    expect(parseRange('bytes=0-', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=0-100', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=0-1,3-4', 10)).toBeNull();
  });
});
