import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../../src/shared/png-chunks';
import { exportFileName, promptSlug } from '../../../src/main/library-io/export';
import { parseA1111, parseInvokeDream } from '../../../src/shared/png-metadata';
import { parseTarHeader, tarHeader } from '../../../src/main/library-io/tar';
import type { Generation } from '../../../src/shared/contract';

describe('library-io formats', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('6789'), crc32(Buffer.from('12345')))).toBe(0xcbf43926);
  });

  it('round-trips tar headers, including sizes over 8 GiB, and rejects a damaged one', () => {
    const header = tarHeader('files/ab/cd/x.png', 1234, new Date(0));
    expect(parseTarHeader(header)).toEqual({ name: 'files/ab/cd/x.png', size: 1234, type: '0' });
    expect(parseTarHeader(tarHeader('big', 9 * 2 ** 30, new Date(0)))?.size).toBe(9 * 2 ** 30);
    const damaged = Buffer.from(header);
    damaged[3] ^= 1;
    expect(() => parseTarHeader(damaged)).toThrow(/checksum/);
    expect(parseTarHeader(Buffer.alloc(512))).toBeNull();
  });

  it('writes headers GNU tar accepts', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-tar-'));
    const file = path.join(dir, 'a.tar');
    const body = Buffer.from('hello');
    fs.writeFileSync(file, Buffer.concat([tarHeader('hello.txt', body.length, new Date()), body, Buffer.alloc(507), Buffer.alloc(1024)]));
    expect(execFileSync('tar', ['-xOf', file, 'hello.txt'], { encoding: 'utf8' })).toBe('hello');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names exported files <date>-<kind>-<slug>-<id8>.<ext>', () => {
    expect(promptSlug('  Crème brûlée: a "photo", 8K!!  ')).toBe('creme-brulee-a-photo-8k');
    expect(promptSlug('東京')).toBe('untitled');
    const g = { id: '01JABCDEFGHJKMNPQRSTVWXYZ0', kind: 'image', prompt: 'A cat', createdAt: Date.UTC(2025, 0, 2) } as Pick<Generation, 'id' | 'kind' | 'prompt' | 'createdAt'>;
    expect(exportFileName(g as Generation, 'png')).toBe('2025-01-02-image-a-cat-stvwxyz0.png');
    expect(exportFileName(g as Generation, 'PNG', 2)).toBe('2025-01-02-image-a-cat-stvwxyz0-2.png');
  });

  it('parses AUTOMATIC1111 infotext with quoted values and multi-line prompts', () => {
    const p = parseA1111('line one\nline two\nNegative prompt: bad\nworse\nSteps: 5, Sampler: Euler a, CFG scale: 3, Seed: 9, Size: 64x32, Lora hashes: "a: 1, b: 2"');
    expect(p).toMatchObject({ source: 'a1111', prompt: 'line one\nline two', negativePrompt: 'bad\nworse', steps: 5, scheduler: 'euler-a', guidance: 3, seed: 9, width: 64, height: 32, extra: { 'Lora hashes': 'a: 1, b: 2' } });
  });

  it('parses an InvokeAI Dream command line', () => {
    expect(parseInvokeDream('"a \\"quoted\\" cat [dog]" -s 12 -S 3 -W 64 -H 64 -C 7.5 -A ddim')).toMatchObject({ prompt: 'a "quoted" cat', negativePrompt: 'dog', steps: 12, seed: 3, guidance: 7.5, scheduler: 'ddim' });
  });
});
