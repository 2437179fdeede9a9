import fsp from 'node:fs/promises';
import { crc32 } from '../../shared/png-chunks';

/**
 * A store-only (uncompressed) ZIP writer: local header + data per entry, then the central
 * directory and the end record. PNG and WAV barely compress, so storing keeps it simple and fast.
 * No ZIP64: archives over 4 GiB or 65,535 entries are refused (export to a folder instead).
 */
export interface ZipEntrySource {
  /** Name inside the archive (forward slashes). */
  name: string;
  /** File on disk to store. */
  file: string;
  modified?: Date;
}

const LIMIT = 0xffffffff;

function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.max(1980, date.getFullYear());
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

/** Writes the ZIP to `target` (which must not exist) and fsyncs it. */
export async function writeStoredZip(target: string, entries: ZipEntrySource[]): Promise<{ bytes: number }> {
  if (entries.length > 0xffff) throw new Error(`a ZIP export holds at most 65,535 files (${entries.length} asked); export to a folder instead`);
  const out = await fsp.open(target, 'wx');
  try {
    let offset = 0;
    const write = async (data: Buffer): Promise<void> => {
      let written = 0;
      while (written < data.length) written += (await out.write(data, written, data.length - written)).bytesWritten;
      offset += data.length;
    };
    const central: Buffer[] = [];
    for (const entry of entries) {
      const data = await fsp.readFile(entry.file);
      if (data.length >= LIMIT || offset + data.length >= LIMIT) throw new Error('the ZIP would exceed 4 GiB; export to a folder instead');
      const crc = crc32(data);
      const name = Buffer.from(entry.name, 'utf8');
      const { time, date } = dosDateTime(entry.modified ?? new Date());
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      const fields = { time, date, crc, size: data.length, nameLength: name.length };
      writeEntryFields(local, 4, fields);
      local.writeUInt16LE(0, 28);
      const headerOffset = offset;
      await write(Buffer.concat([local, name]));
      await write(data);
      const record = Buffer.alloc(46);
      record.writeUInt32LE(0x02014b50, 0);
      record.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
      writeEntryFields(record, 6, fields);
      record.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: regular file, rw-r--r--
      record.writeUInt32LE(headerOffset, 42);
      central.push(record, name);
    }
    const centralOffset = offset;
    const directory = Buffer.concat(central);
    if (centralOffset + directory.length >= LIMIT) throw new Error('the ZIP would exceed 4 GiB; export to a folder instead');
    await write(directory);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(centralOffset, 16);
    await write(end);
    await out.sync();
    return { bytes: offset };
  } finally {
    await out.close();
  }
}

/**
 * The fields a local file header (from byte 4) and a central directory record (from byte 6) share,
 * in the same order: version needed (2.0), flags (UTF-8 names), method (stored), DOS time and date,
 * CRC-32, compressed and uncompressed size, name length.
 */
function writeEntryFields(buf: Buffer, at: number, entry: { time: number; date: number; crc: number; size: number; nameLength: number }): void {
  buf.writeUInt16LE(20, at);
  buf.writeUInt16LE(0x0800, at + 2);
  buf.writeUInt16LE(0, at + 4);
  buf.writeUInt16LE(entry.time, at + 6);
  buf.writeUInt16LE(entry.date, at + 8);
  buf.writeUInt32LE(entry.crc, at + 10);
  buf.writeUInt32LE(entry.size, at + 14);
  buf.writeUInt32LE(entry.size, at + 18);
  buf.writeUInt16LE(entry.nameLength, at + 22);
}
