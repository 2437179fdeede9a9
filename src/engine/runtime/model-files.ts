import { createHash } from 'node:crypto';
import { createReadStream, statSync, type Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { StudioError } from '../../shared/errors';

/**
 * Checks on model files before onnxruntime sees them. A truncated download or a corrupt file
 * otherwise surfaces as an opaque protobuf error (or worse, a native abort); here it becomes a
 * MODEL_INVALID error that names the file and says what to do.
 */

export interface ModelFileFacts {
  path: string;
  bytes: number;
  /** Bytes of external-data files that belong to this model (model.onnx_data, weights.pb, …). */
  externalBytes: number;
  externalFiles: string[];
  /** size + mtime: cheap identity used for caches; sha256 is on demand via digest(). */
  fingerprint: string;
}

const REDOWNLOAD = 'Delete the model folder and download it again from the Models tab (or re-import it).';

function invalid(file: string, what: string): StudioError {
  return new StudioError('MODEL_INVALID', `The model file ${file} ${what}. ${REDOWNLOAD}`);
}

/** Protobuf varint at `pos` in `buf`; null when it runs off the end. */
function readVarint(buf: Uint8Array, pos: number): { value: number; next: number } | null {
  let value = 0;
  let factor = 1;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * factor;
    factor *= 128;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  return null;
}

/**
 * Walks the top-level fields of an ONNX ModelProto without loading it: every field must fit
 * inside the file and the walk must end exactly at its end, and a graph (field 7) must be there.
 * This catches truncation anywhere, since the graph field's length covers the whole graph.
 */
export async function checkOnnxStructure(file: string, size: number): Promise<string | null> {
  const handle = await open(file, 'r');
  try {
    const header = new Uint8Array(16);
    let pos = 0;
    let sawGraph = false;
    let sawIrVersion = false;
    let fields = 0;
    while (pos < size) {
      if (++fields > 100_000) return 'has too many top-level fields to be an ONNX model';
      const { bytesRead } = await handle.read(header, 0, header.length, pos);
      const view = header.subarray(0, bytesRead);
      const tag = readVarint(view, 0);
      if (!tag || tag.value === 0) return `is not a valid ONNX file (unreadable data at byte ${pos})`;
      const fieldNumber = Math.floor(tag.value / 8);
      const wireType = tag.value & 7;
      let next: number;
      if (wireType === 0) {
        const v = readVarint(view, tag.next);
        if (!v) return `is cut short at byte ${pos}`;
        next = pos + v.next;
      } else if (wireType === 2) {
        const len = readVarint(view, tag.next);
        if (!len) return `is cut short at byte ${pos}`;
        next = pos + len.next + len.value;
      } else if (wireType === 1) {
        next = pos + tag.next + 8;
      } else if (wireType === 5) {
        next = pos + tag.next + 4;
      } else {
        return `is not a valid ONNX file (unknown field encoding at byte ${pos})`;
      }
      if (next > size) return `is truncated: it ends at ${size} bytes but its data continues past ${next} bytes (an incomplete download?)`;
      if (fieldNumber === 7 && wireType === 2) sawGraph = true;
      if (fieldNumber === 1 && wireType === 0) sawIrVersion = true;
      pos = next;
    }
    if (!sawGraph || !sawIrVersion) return 'is not an ONNX model (no graph or IR version found)';
    return null;
  } finally {
    await handle.close();
  }
}

/** External-data files shipped next to a model file, by the names exporters use. */
export async function externalDataFiles(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const stem = base.replace(/\.onnx$/, '');
  return names
    .filter((name) => name !== base && (name.startsWith(`${base}_data`) || name.startsWith(`${base}.data`) || name === `${stem}.onnx_data` || (name === 'weights.pb' && base === 'model.onnx')))
    .map((name) => path.join(dir, name));
}

const factsCache = new Map<string, ModelFileFacts>();

/**
 * exists, size > 0, parsable; external data counted. Cached by (path, size, mtime): a warm
 * session's load (3 per image job) costs one synchronous stat (microseconds on a local disk, no
 * thread-pool round trip) and skips the structure walk and the external-data scan.
 */
export async function checkModelFile(file: string): Promise<ModelFileFacts> {
  const absolute = path.resolve(file);
  let info: Stats;
  try {
    info = statSync(absolute);
  } catch {
    throw new StudioError('MODEL_INVALID', `The model file ${absolute} is missing. ${REDOWNLOAD}`);
  }
  if (!info.isFile()) throw invalid(absolute, 'is not a file');
  if (info.size === 0) throw invalid(absolute, 'is empty (0 bytes)');
  const fingerprint = `${info.size}:${Math.round(info.mtimeMs)}`;
  const cached = factsCache.get(absolute);
  if (cached && cached.fingerprint === fingerprint) return cached;
  if (absolute.endsWith('.onnx')) {
    const problem = await checkOnnxStructure(absolute, info.size);
    if (problem) throw invalid(absolute, problem);
  }
  const externalFiles = await externalDataFiles(absolute);
  let externalBytes = 0;
  for (const extra of externalFiles) {
    const extraInfo = await stat(extra);
    if (extraInfo.size === 0) throw invalid(extra, 'is empty (0 bytes)');
    externalBytes += extraInfo.size;
  }
  const facts: ModelFileFacts = { path: absolute, bytes: info.size, externalBytes, externalFiles, fingerprint };
  factsCache.set(absolute, facts);
  return facts;
}

const digestCache = new Map<string, { fingerprint: string; sha256: string }>();

/** Full sha256 of a file (streamed), cached by size + mtime. */
export async function digest(file: string): Promise<string> {
  const absolute = path.resolve(file);
  const info = await stat(absolute);
  const fingerprint = `${info.size}:${Math.round(info.mtimeMs)}`;
  const cached = digestCache.get(absolute);
  if (cached && cached.fingerprint === fingerprint) return cached.sha256;
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(absolute)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve());
  });
  const sha256 = hash.digest('hex');
  digestCache.set(absolute, { fingerprint, sha256 });
  return sha256;
}

/** onnxruntime's messages for files it cannot parse, turned into MODEL_INVALID. */
export function isModelParseError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /protobuf parsing failed|Load model from .* failed|ModelProto|Invalid model|external data|model_path must not be empty|No graph was found/i.test(message);
}
