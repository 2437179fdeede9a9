import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

/** How the asset server finds files: by id, through the database, never from a path in the URL. */
export interface AssetLookup {
  resolveAsset(id: string): { path: string; mime: string } | null;
}

export interface AssetResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable | null;
}

/** Asset ids are opaque tokens: anything else (slashes, dots, percent escapes) is refused before lookup. */
export const ASSET_ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/** Parses a single `bytes=` range (the form media elements send); multi-range requests get the whole file. */
export function parseRange(header: string | null | undefined, size: number): ByteRange {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return header.includes(',') ? null : 'unsatisfiable';
  const [, startText, endText] = match;
  if (startText === '' && endText === '') return 'unsatisfiable';
  let start: number;
  let end: number;
  if (startText === '') {
    const suffix = Number(endText);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(startText);
    end = endText === '' ? size - 1 : Math.min(Number(endText), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

function plain(status: number, message: string): AssetResponse {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Atelier-Reason': message }, body: null };
}

/**
 * Serves one library file by asset id with Range support. The resolved file must lie inside
 * `filesRoot` after symlinks are followed, so a tampered row or a planted link cannot escape it.
 */
export async function serveAsset(lookup: AssetLookup, filesRoot: string, rawId: string, rangeHeader?: string | null): Promise<AssetResponse> {
  if (!ASSET_ID_PATTERN.test(rawId)) return plain(400, 'Malformed asset id');
  const found = lookup.resolveAsset(rawId);
  if (!found) return plain(404, 'No such asset');
  let real: string;
  let rootReal: string;
  try {
    [real, rootReal] = await Promise.all([fs.realpath(found.path), fs.realpath(filesRoot)]);
  } catch {
    return plain(404, 'The asset file is missing');
  }
  if (!real.startsWith(rootReal + path.sep)) return plain(403, 'Asset outside the library');
  const stat = await fs.stat(real);
  if (!stat.isFile()) return plain(404, 'The asset file is missing');
  const size = stat.size;
  const headers: Record<string, string> = {
    'Content-Type': found.mime,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'private, max-age=31536000, immutable',
    'X-Content-Type-Options': 'nosniff',
  };
  const range = parseRange(rangeHeader, size);
  if (range === 'unsatisfiable') {
    return { status: 416, headers: { ...headers, 'Content-Range': `bytes */${size}` }, body: null };
  }
  if (range) {
    return {
      status: 206,
      headers: { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${size}`, 'Content-Length': String(range.end - range.start + 1) },
      body: createReadStream(real, { start: range.start, end: range.end }),
    };
  }
  return { status: 200, headers: { ...headers, 'Content-Length': String(size) }, body: createReadStream(real) };
}
