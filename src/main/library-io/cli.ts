import path from 'node:path';
import type { Library, LibraryReader } from '../library';
import { backupLibrary, restoreLibrary, type BackupProgress } from './archive-backup';
import type { ExportSigning } from '../credentials/export-signing';
import { exportGenerations } from './export';
import { importPngFolder } from './import';

/**
 * The `atelier library export|backup|restore|import` commands. Results go to stdout (JSON with
 * --json), progress to stderr. Each returns the process exit code.
 */

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function print(io: CommandIo, json: boolean | undefined, value: unknown, human: () => string): void {
  io.stdout(json ? `${JSON.stringify(value)}\n` : `${human()}\n`);
}

function progressLine(io: CommandIo, label: string) {
  return ({ done, total }: { done: number; total: number }) => io.stderr(`${label} ${done}/${total}\n`);
}

function backupProgress(io: CommandIo) {
  return (p: BackupProgress) => io.stderr(`${p.phase} ${p.done}/${p.total}\n`);
}

export async function libraryExportCommand(library: LibraryReader, ids: string[], to: string, opts: { zip?: boolean; json?: boolean; signing?: ExportSigning } = {}, io: CommandIo = processIo): Promise<number> {
  const result = await exportGenerations(library, ids, to, { zip: opts.zip, signing: opts.signing, onProgress: progressLine(io, 'exported') });
  print(io, opts.json, result, () => [...result.files, result.zip ? `(manifest.json inside ${path.basename(result.zip)})` : result.manifest].join('\n'));
  return 0;
}

export async function libraryBackupCommand(library: Library, libraryDir: string, file: string, opts: { json?: boolean } = {}, io: CommandIo = processIo): Promise<number> {
  const result = await backupLibrary(library, libraryDir, file, { onProgress: backupProgress(io) });
  print(io, opts.json, { file: path.resolve(file), ...result }, () => `Backed up ${result.generations} generations and ${result.files} files (${(result.bytes / 1e6).toFixed(1)} MB) to ${path.resolve(file)}`);
  return 0;
}

/**
 * Restore replaces the database file, so it must run with the library CLOSED: the CLI routes
 * this command without opening (or after closing) its studio. It never takes a Library.
 */
export async function libraryRestoreCommand(file: string, libraryDir: string, opts: { json?: boolean } = {}, io: CommandIo = processIo): Promise<number> {
  const result = await restoreLibrary(file, libraryDir, { onProgress: backupProgress(io) });
  print(io, opts.json, result, () =>
    [`Restored ${result.generations} generations and ${result.files} files from ${path.resolve(file)}.`, result.previousCopy ? `The replaced database was kept at ${result.previousCopy}.` : ''].filter(Boolean).join('\n'),
  );
  return 0;
}

export async function libraryImportCommand(library: Library, dir: string, opts: { json?: boolean; recursive?: boolean } = {}, io: CommandIo = processIo): Promise<number> {
  const result = await importPngFolder(library, dir, { recursive: opts.recursive, onProgress: progressLine(io, 'checked') });
  print(io, opts.json, result, () => [`Imported ${result.imported} pictures; restored ${result.restored.length} from the trash; skipped ${result.skipped.length}.`, ...result.skipped.map((s) => `  ${s.file}: ${s.reason}`)].join('\n'));
  return 0;
}
