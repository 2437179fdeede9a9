import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLibrary, type Library } from '../../src/main/library';
import { backupLibrary, restoreLibrary } from '../../src/main/library-io/archive-backup';
import { exportGenerations, type ExportManifest } from '../../src/main/library-io/export';
import { importPngFolder } from '../../src/main/library-io/import';
import { allGenerations, pngWithText, seedLibrary, sha256File, storeHashes, tempDir, type Seeded } from './helpers/library-io-fixtures';

let base: string;
let libraryDir: string;
let library: Library;
let seeded: Seeded;

beforeAll(async () => {
  base = tempDir();
  libraryDir = path.join(base, 'library');
  library = openLibrary(libraryDir);
  seeded = await seedLibrary(library, path.join(base, 'scratch'));
});

afterAll(() => {
  library.close();
  fs.rmSync(base, { recursive: true, force: true });
});

function withoutSource(params: Record<string, unknown>): Record<string, unknown> {
  const { source: _source, ...rest } = params;
  return rest;
}

describe('export', () => {
  it('embeds A1111 parameters and IPTC DigitalSourceType that exiftool reads, and re-imports with the same params', async () => {
    const to = path.join(base, 'export-images');
    const ids = [...seeded.images.map((g) => g.id), seeded.child.id];
    const result = await exportGenerations(library, ids, to);
    const pngs = result.files.filter((f) => f.endsWith('.png'));
    expect(pngs).toHaveLength(4);
    const tags = JSON.parse(execFileSync('exiftool', ['-j', '-Parameters', '-DigitalSourceType', ...pngs], { encoding: 'utf8' })) as { SourceFile: string; Parameters?: string; DigitalSourceType?: string }[];
    for (const t of tags) {
      expect(t.DigitalSourceType).toBe('http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
      expect(t.Parameters).toMatch(/^A lighthouse/);
      expect(t.Parameters).toMatch(/Steps: \d+, Sampler: [^,]+, CFG scale: [\d.]+, Seed: \d+, Size: 24x16, Model: tiny-sd/);
    }
    const first = tags.find((t) => t.SourceFile.includes(seeded.images[0]!.id.slice(-8).toLowerCase()))!;
    expect(first.Parameters).toContain('Negative prompt: blurry, low quality');
    expect(first.Parameters).toContain('Seed: 1000');

    // Names are readable: <date>-<kind>-<slug>-<id8>.<ext>
    expect(path.basename(pngs[0]!)).toMatch(/^\d{4}-\d{2}-\d{2}-image-a-lighthouse-at-[a-z0-9-]+-[0-9a-z]{8}\.png$/);

    const otherDir = path.join(base, 'other-library');
    const other = openLibrary(otherDir);
    try {
      const imported = await importPngFolder(other, to);
      expect(imported.skipped).toEqual([]);
      expect(imported.imported).toBe(4);
      for (const id of imported.ids) {
        const copy = other.getGeneration(id);
        const original = [...seeded.images, seeded.child].find((g) => g.prompt === copy.prompt)!;
        expect(copy.params.source).toBe('atelier');
        expect(withoutSource(copy.params)).toEqual(original.params);
        expect(copy.seed).toBe(original.seed);
        expect(copy.model).toBe(original.model);
        expect(copy.negativePrompt).toBe(original.negativePrompt);
      }
      // Importing the same folder again finds every picture already there.
      const again = await importPngFolder(other, to);
      expect(again.imported).toBe(0);
      expect(again.skipped.every((s) => s.reason.startsWith('already in the library'))).toBe(true);
    } finally {
      other.close();
    }
    // Into the library the pictures came from: recognised by their generation id.
    const same = await importPngFolder(library, to);
    expect(same.imported).toBe(0);
  });

  it('writes the full generation JSON with lineage into the atelier chunk', async () => {
    const to = path.join(base, 'export-lineage');
    const result = await exportGenerations(library, [seeded.child.id], to);
    const json = execFileSync('exiftool', ['-b', '-Atelier', result.files[0]!], { encoding: 'utf8' });
    const doc = JSON.parse(json) as Record<string, unknown>;
    expect(doc).toMatchObject({ id: seeded.child.id, kind: 'image', model: 'tiny-sd', seed: 5, parentId: seeded.images[0]!.id, lineage: [seeded.images[0]!.id], params: seeded.child.params });
    expect(typeof doc.created).toBe('string');
  });

  it('adds a LIST/INFO comment to WAV that ffprobe reads', async () => {
    const to = path.join(base, 'export-wav');
    const result = await exportGenerations(library, [seeded.music.id], to);
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_format', '-of', 'json', result.files[0]!], { encoding: 'utf8' })) as { format: { tags?: Record<string, string>; duration?: string } };
    expect(probe.format.tags?.comment).toContain('calm piano, rain');
    expect(probe.format.tags?.comment).toContain('Model: tiny-musicgen');
    expect(probe.format.tags?.comment).toContain('AI-generated with Atelier');
    expect(Number(probe.format.duration)).toBeCloseTo(0.1, 2);
  });

  it('writes text as Markdown with YAML front matter', async () => {
    const to = path.join(base, 'export-text');
    const result = await exportGenerations(library, [seeded.text.id], to);
    const md = fs.readFileSync(result.files[0]!, 'utf8');
    const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(md);
    expect(match).not.toBeNull();
    const front: Record<string, unknown> = {};
    for (const line of match![1]!.split('\n')) {
      const at = line.indexOf(': ');
      const value = line.slice(at + 2);
      front[line.slice(0, at)] = /^[a-z]+$/i.test(value) && !['true', 'false', 'null'].includes(value) ? value : JSON.parse(value);
    }
    expect(front).toMatchObject({ generator: 'Atelier', model: 'tiny-gpt', prompt: seeded.text.prompt, params: seeded.text.params, ai_generated: true, parent: null, seed: 3 });
    expect(new Date(String(front.created)).getTime()).toBe(seeded.text.createdAt);
    expect(match![2]).toBe(`${seeded.text.outputText}\n`);
  });

  it('lists every file with its sha256 in manifest.json and leaves no staging folder', async () => {
    const to = path.join(base, 'export-all');
    const ids = [...seeded.images, seeded.music, seeded.text, seeded.child].map((g) => g.id);
    const result = await exportGenerations(library, ids, to);
    const manifest = JSON.parse(fs.readFileSync(result.manifest, 'utf8')) as ExportManifest;
    expect(manifest.items).toHaveLength(6);
    for (const item of manifest.items) expect(sha256File(path.join(to, item.file))).toBe(item.sha256);
    expect(fs.readdirSync(to).sort()).toEqual([...manifest.items.map((i) => i.file), 'manifest.json'].sort());
  });

  it('writes a ZIP that unzip and python zipfile read, with the manifest inside', async () => {
    const to = path.join(base, 'export-zip');
    const ids = [...seeded.images, seeded.music, seeded.text].map((g) => g.id);
    const result = await exportGenerations(library, ids, to, { zip: true, zipName: 'my-export' });
    expect(result.zip).toBe(path.join(to, 'my-export.zip'));
    expect(fs.readdirSync(to)).toEqual(['my-export.zip']);
    const listing = execFileSync('unzip', ['-l', result.zip!], { encoding: 'utf8' });
    expect(listing).toContain('manifest.json');
    const check = execFileSync('python3', ['-c', 'import sys,zipfile,json,hashlib;z=zipfile.ZipFile(sys.argv[1]);assert z.testzip() is None;m=json.loads(z.read("manifest.json"));print(all(hashlib.sha256(z.read(i["file"])).hexdigest()==i["sha256"] for i in m["items"]), len(m["items"]))', result.zip!], { encoding: 'utf8' });
    expect(check.trim()).toBe('True 5');
  });

  it('refuses unknown ids before writing anything', async () => {
    const to = path.join(base, 'export-bad');
    await expect(exportGenerations(library, ['NOPE'], to)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(fs.existsSync(to)).toBe(false);
  });
});

describe('backup and restore', () => {
  it('backup then restore into a fresh folder gives identical rows and file hashes', async () => {
    library.softDeleteGenerations([seeded.images[2]!.id]);
    const file = path.join(base, 'backups', 'library.atelier-backup.tar');
    const result = await backupLibrary(library, libraryDir, file);
    expect(result.generations).toBe(6);
    expect(result.files).toBe(5); // the text generation has no file
    expect(fs.statSync(file).size).toBe(result.bytes);
    expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
    expect(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n')[0]).toBe('atelier-backup.json');

    const freshDir = path.join(base, 'restored');
    const restored = await restoreLibrary(file, freshDir);
    expect(restored).toMatchObject({ generations: 6, files: 5, previousCopy: null });
    const fresh = openLibrary(freshDir);
    try {
      expect(allGenerations(fresh)).toEqual(allGenerations(library));
      expect(fresh.listTags()).toEqual(library.listTags());
      expect(fresh.sweptAtOpen.quarantinedFiles).toBe(0);
    } finally {
      fresh.close();
    }
    expect(storeHashes(freshDir)).toEqual(storeHashes(libraryDir));
    for (const [name, hash] of Object.entries(storeHashes(freshDir))) expect(path.basename(name)).toMatch(new RegExp(`^${hash}\\.`));
    library.restoreGenerations([seeded.images[2]!.id]);
  });

  it('refuses a damaged or truncated archive with a clear error and leaves the existing library untouched', async () => {
    const file = path.join(base, 'backups', 'good.tar');
    await backupLibrary(library, libraryDir, file);
    const target = path.join(base, 'target-library');
    const existing = openLibrary(target);
    await seedLibrary(existing, path.join(base, 'scratch-target'), 1, 500);
    const before = allGenerations(existing);
    existing.close();
    const hashesBefore = storeHashes(target);
    const dbBefore = sha256File(path.join(target, 'atelier.db'));

    const good = fs.readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[flipped.lastIndexOf(Buffer.from([0x89, 0x50, 0x4e, 0x47])) + 40] ^= 0xff; // inside the last stored picture
    const damaged = path.join(base, 'backups', 'damaged.tar');
    fs.writeFileSync(damaged, flipped);
    await expect(restoreLibrary(damaged, target)).rejects.toThrow(/cannot be restored: entry files\/.* is damaged \(sha256 mismatch\).*your current library was not changed/);

    const truncated = path.join(base, 'backups', 'truncated.tar');
    fs.writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
    await expect(restoreLibrary(truncated, target)).rejects.toMatchObject({ code: 'DB_CORRUPT', message: expect.stringMatching(/truncated/) });

    const notBackup = path.join(base, 'backups', 'random.tar');
    fs.writeFileSync(notBackup, Buffer.alloc(4096, 7));
    await expect(restoreLibrary(notBackup, target)).rejects.toMatchObject({ code: 'DB_CORRUPT' });

    expect(sha256File(path.join(target, 'atelier.db'))).toBe(dbBefore);
    expect(storeHashes(target)).toEqual(hashesBefore);
    const reopened = openLibrary(target);
    try {
      expect(allGenerations(reopened)).toEqual(before);
    } finally {
      reopened.close();
    }
  });

  it('restores over an existing library, keeping a copy of the replaced database', async () => {
    const file = path.join(base, 'backups', 'over.tar');
    await backupLibrary(library, libraryDir, file);
    const target = path.join(base, 'over-library');
    const existing = openLibrary(target);
    await seedLibrary(existing, path.join(base, 'scratch-over'), 2, 700);
    existing.close();
    const restored = await restoreLibrary(file, target);
    expect(restored.previousCopy).not.toBeNull();
    expect(fs.existsSync(restored.previousCopy!)).toBe(true);
    const oldFiles = Object.keys(storeHashes(target)).filter((name) => !(name in storeHashes(libraryDir)));
    expect(oldFiles.length).toBeGreaterThan(0);
    const reopened = openLibrary(target);
    try {
      expect(allGenerations(reopened)).toEqual(allGenerations(library));
      // Just restored: the files are not judged by the new database yet (Undo restore needs them).
      expect(reopened.sweptAtOpen.skipped).toBe('the database was just restored');
    } finally {
      reopened.close();
    }
    for (const name of oldFiles) expect(fs.existsSync(path.join(target, 'files', name))).toBe(true);
    // The next open sets the old library's files aside in quarantine, never deleting them.
    openLibrary(target).close();
    expect(storeHashes(target)).toEqual(storeHashes(libraryDir));
    for (const name of oldFiles) expect(fs.existsSync(path.join(target, 'quarantine', 'files', name))).toBe(true);
  });
});

describe('import', () => {
  it('imports AUTOMATIC1111, ComfyUI and InvokeAI PNGs with their parameters and skips the rest', async () => {
    const dir = path.join(base, 'import-src');
    fs.mkdirSync(dir, { recursive: true });
    const a1111 = 'a castle on a hill, (masterpiece:1.2)\nNegative prompt: lowres, bad hands\nSteps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 123456789, Size: 512x768, Model hash: abc123, Model: dreamshaper_8, VAE: "vae-ft-mse, v2"';
    fs.writeFileSync(path.join(dir, '00001-a1111.png'), await pngWithText({ parameters: a1111 }, 1));
    const comfyPrompt = {
      '3': { class_type: 'KSampler', inputs: { seed: 42, steps: 25, cfg: 8, sampler_name: 'euler_ancestral', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 640, height: 448, batch_size: 1 } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a red fox in snow', clip: ['4', 1] } },
      '7': { class_type: 'CLIPTextEncode', inputs: { text: 'watermark', clip: ['4', 1] } },
    };
    fs.writeFileSync(path.join(dir, 'ComfyUI_00001_.png'), await pngWithText({ prompt: JSON.stringify(comfyPrompt), workflow: JSON.stringify({ nodes: [], links: [] }) }, 2));
    const invoke = { generation_mode: 'txt2img', positive_prompt: 'a glass teapot, studio light', negative_prompt: 'dust', width: 768, height: 512, seed: 9001, steps: 30, cfg_scale: 7.5, scheduler: 'dpmpp_2m_k', model: { key: 'x', hash: 'y', name: 'juggernaut-xl', base: 'sdxl', type: 'main' } };
    fs.writeFileSync(path.join(dir, 'invoke3.png'), await pngWithText({ invokeai_metadata: JSON.stringify(invoke) }, 3));
    const sdMetadata = { model: 'stable diffusion', model_weights: 'stable-diffusion-1.5', app_id: 'invoke-ai/InvokeAI', app_version: '2.3.5', image: { prompt: [{ prompt: 'an old map [blurry, text]', weight: 1 }], steps: 50, cfg_scale: 7.5, height: 512, width: 512, seed: 77, type: 'txt2img', sampler: 'k_euler_a' } };
    fs.writeFileSync(path.join(dir, 'invoke2.png'), await pngWithText({ 'sd-metadata': JSON.stringify(sdMetadata) }, 4));
    fs.writeFileSync(path.join(dir, 'dream.png'), await pngWithText({ Dream: '"a tiny robot [ugly]" -s 40 -S 555 -W 512 -H 384 -C 7 -A k_lms' }, 5));
    fs.writeFileSync(path.join(dir, 'unicode.png'), await pngWithText({ parameters: 'café au lait, 東京\nSteps: 10, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 16x16, Model: m' }, 6, true));
    fs.writeFileSync(path.join(dir, 'plain.png'), await pngWithText({}, 7));
    fs.writeFileSync(path.join(dir, 'broken.png'), Buffer.from('not a png at all'));
    fs.copyFileSync(path.join(dir, '00001-a1111.png'), path.join(dir, '00002-copy.png'));

    const target = openLibrary(path.join(base, 'import-library'));
    try {
      const result = await importPngFolder(target, dir);
      expect(result.imported).toBe(6);
      expect(result.skipped.map((s) => s.file).sort()).toEqual(['00002-copy.png', 'broken.png', 'plain.png']);
      expect(result.skipped.find((s) => s.file === '00002-copy.png')!.reason).toMatch(/already in the library/);
      const byPrompt = new Map(result.ids.map((id) => target.getGeneration(id)).map((g) => [g.prompt, g]));

      const a = byPrompt.get('a castle on a hill, (masterpiece:1.2)')!;
      expect(a).toMatchObject({ kind: 'image', model: 'dreamshaper_8', negativePrompt: 'lowres, bad hands', seed: 123456789 });
      expect(a.params).toMatchObject({ source: 'a1111', steps: 28, guidance: 6.5, sampler: 'DPM++ 2M', scheduler: 'dpmpp-2m-karras', width: 512, height: 768, model: 'dreamshaper_8', extra: { 'Model hash': 'abc123', VAE: 'vae-ft-mse, v2', 'Schedule type': 'Karras' } });
      expect(a.assets[0]).toMatchObject({ width: 16, height: 16, mime: 'image/png' });

      const c = byPrompt.get('a red fox in snow')!;
      expect(c).toMatchObject({ model: 'v1-5-pruned-emaonly.safetensors', negativePrompt: 'watermark', seed: 42 });
      expect(c.params).toMatchObject({ source: 'comfyui', steps: 25, guidance: 8, sampler: 'euler_ancestral', scheduler: 'euler-a', width: 640, height: 448 });

      const i3 = byPrompt.get('a glass teapot, studio light')!;
      expect(i3).toMatchObject({ model: 'juggernaut-xl', negativePrompt: 'dust', seed: 9001 });
      expect(i3.params).toMatchObject({ source: 'invokeai', steps: 30, guidance: 7.5, width: 768, height: 512, scheduler: 'dpmpp-2m-karras' });

      const i2 = byPrompt.get('an old map')!;
      expect(i2).toMatchObject({ model: 'stable-diffusion-1.5', negativePrompt: 'blurry, text', seed: 77 });
      expect(i2.params).toMatchObject({ source: 'invokeai', steps: 50, guidance: 7.5, sampler: 'k_euler_a', scheduler: 'euler-a' });

      const dream = byPrompt.get('a tiny robot')!;
      expect(dream).toMatchObject({ negativePrompt: 'ugly', seed: 555 });
      expect(dream.params).toMatchObject({ source: 'invokeai', steps: 40, width: 512, height: 384, guidance: 7, sampler: 'k_lms' });

      expect(byPrompt.get('café au lait, 東京')!.params).toMatchObject({ source: 'a1111', steps: 10 });
      expect(target.searchGenerations({ query: 'teapot' }).items).toHaveLength(1);
    } finally {
      target.close();
    }
  });
});
