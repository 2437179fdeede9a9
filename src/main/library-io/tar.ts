import fsp from 'node:fs/promises';

/**
 * POSIX ustar, the archive format of backups: sequential (restore streams it in one pass),
 * readable by `tar -tvf` anywhere. Sizes over 8 GiB use the base-256 size field GNU tar and
 * bsdtar read. Each 512-byte header carries a checksum, so a damaged header is detected.
 */

const BLOCK = 512;
const MAX_OCTAL_SIZE = 0o77777777777;

function writeString(header: Buffer, text: string, offset: number, length: number): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > length) throw new Error(`tar field too long: ${text}`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
  writeString(header, `${value.toString(8).padStart(length - 1, '0')}\0`, offset, length);
}

export function tarHeader(name: string, size: number, mtime: Date): Buffer {
  const header = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  writeString(header, name, 0, 100);
  writeOctal(header, 0o644, 100, 8);
  writeOctal(header, 0, 108, 8);
  writeOctal(header, 0, 116, 8);
  if (size <= MAX_OCTAL_SIZE) writeOctal(header, size, 124, 12);
  else {
    header[124] = 0x80;
    let rest = BigInt(size);
    for (let i = 135; i > 124; i--) {
      header[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
  }
  writeOctal(header, Math.floor(mtime.getTime() / 1000), 136, 12);
  header.fill(0x20, 148, 156);
  header[156] = 0x30; // '0': regular file
  writeString(header, 'ustar\0', 257, 6);
  writeString(header, '00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return header;
}

export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Two zero blocks end an archive. */
export function tarEnd(): Buffer {
  return Buffer.alloc(BLOCK * 2);
}

export interface TarEntryHeader {
  name: string;
  size: number;
  type: string;
}

function readOctal(header: Buffer, offset: number, length: number): number {
  if (header[offset]! & 0x80) {
    let value = 0n;
    for (let i = offset + 1; i < offset + length; i++) value = (value << 8n) | BigInt(header[i]!);
    return Number(value);
  }
  const text = header.toString('latin1', offset, offset + length).replace(/[\0 ]+$/g, '').trim();
  if (!/^[0-7]*$/.test(text)) throw new Error('a damaged tar header (bad number)');
  return text === '' ? 0 : parseInt(text, 8);
}

function cString(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul < 0 ? length : nul);
}

/** Parses a header block; null for the zero block that ends the archive. Throws on a bad checksum. */
export function parseTarHeader(header: Buffer): TarEntryHeader | null {
  if (header.every((byte) => byte === 0)) return null;
  const stored = readOctal(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  if (sum !== stored) throw new Error('a damaged tar header (checksum mismatch)');
  const prefix = header.toString('latin1', 257, 262) === 'ustar' ? cString(header, 345, 155) : '';
  const name = cString(header, 0, 100);
  return { name: prefix ? `${prefix}/${name}` : name, size: readOctal(header, 124, 12), type: String.fromCharCode(header[156] || 0x30) };
}

/** Sequential reader over a tar file. */
export class TarReader {
  private position = 0;
  private constructor(
    private readonly handle: fsp.FileHandle,
    readonly size: number,
  ) {}

  static async open(file: string): Promise<TarReader> {
    const handle = await fsp.open(file, 'r');
    const { size } = await handle.stat();
    return new TarReader(handle, size);
  }

  private async readExactly(length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(buffer, filled, length - filled, this.position + filled);
      if (bytesRead === 0) throw new Error('the archive is truncated');
      filled += bytesRead;
    }
    this.position += length;
    return buffer;
  }

  /** The next entry's header, or null at the end marker. Throws when the file ends without one. */
  async next(): Promise<TarEntryHeader | null> {
    return parseTarHeader(await this.readExactly(BLOCK));
  }

  /** Streams the current entry's body (`size` bytes) in chunks, then skips its padding. */
  async *body(size: number): AsyncGenerator<Buffer> {
    if (this.position + size > this.size) throw new Error('the archive is truncated');
    let left = size;
    while (left > 0) {
      const chunk = await this.readExactly(Math.min(left, 1 << 20));
      left -= chunk.length;
      yield chunk;
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) await this.readExactly(pad);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
