import path from 'node:path';
import { LibraryQuery, type Generation } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import { credentialsCommand, exportSigningFor } from '../credentials/cli';
import { acquireLibraryLock, openLibrary, undoRestore } from '../library';
import { libraryBackupCommand, libraryExportCommand, libraryImportCommand, libraryRestoreCommand } from '../library-io/cli';
import { rebuildLibrary, startEmptyLibrary } from '../library/recovery';
import { indexCommand, meaningSearchCommand, similarCommand } from '../meaning/cli';
import { appVersion } from '../studio';
import { need, num, type Cli } from './context';

function summary(g: Generation): string {
  const text = (g.outputText ?? g.prompt).replace(/\s+/g, ' ').slice(0, 70);
  return `${g.id}  ${g.kind.padEnd(5)}  ${new Date(g.createdAt).toISOString().slice(0, 16)}  ${'★'.repeat(g.rating).padEnd(5)}  ${text}`;
}

export async function libraryCommand(cli: Cli, sub: string | undefined, rest: string[]): Promise<number> {
  const v = cli.values;
  // list, search, show and export only read: they work beside a running app (see Cli.reader).
  if (sub === 'list') {
    const library = await cli.reader();
    const kind = LibraryQuery.shape.kind.safeParse(v.kind);
    if (!kind.success) throw new StudioError('INVALID_INPUT', `--kind is text, image or music, not "${v.kind}".`);
    const page = library.listGenerations({ kind: kind.data, limit: num(v.limit, 'limit') ?? 50 });
    cli.print(page, () => (page.items.length ? page.items.map(summary).join('\n') : 'The library is empty.'));
    return 0;
  }
  // Search by meaning needs the engine: these open the studio (see meaning/cli.ts).
  if (sub === 'search' && v.meaning) return meaningSearchCommand(cli, rest.join(' ') || need(undefined, 'query'), num(v.limit, 'limit'));
  if (sub === 'similar') return similarCommand(cli, rest[0] ?? need(undefined, 'id'), num(v.limit, 'limit'));
  if (sub === 'index') return indexCommand(cli);
  if (sub === 'search') {
    const library = await cli.reader();
    const result = library.searchGenerations({ query: rest.join(' ') || need(undefined, 'query') });
    cli.print(result, () => (result.items.length ? result.items.map((h) => `${summary(h.generation)}\n    ${h.snippet.replace(/<\/?mark>/g, '*')}`).join('\n') : 'No matches.'));
    return 0;
  }
  if (sub === 'show') {
    const library = await cli.reader();
    const g = library.getGeneration(rest[0] ?? need(undefined, 'id'));
    cli.print(g, () => JSON.stringify(g, null, 2));
    return 0;
  }
  if (sub === 'export') {
    const signing = v.unsigned ? undefined : await exportSigningFor(cli.dataDir, appVersion());
    return libraryExportCommand(await cli.reader(), rest, need(v.to, 'to'), { zip: v.zip, json: v.json, signing });
  }
  if (sub === 'credentials') {
    return credentialsCommand(rest.length ? rest : [need(undefined, 'file')], cli.dataDir, { json: v.json });
  }
  if (sub === 'import') {
    const studio = await cli.studio();
    return libraryImportCommand(studio.library, path.resolve(rest[0] ?? need(undefined, 'dir')), { json: v.json });
  }
  if (sub === 'backup') {
    const studio = await cli.studio();
    return libraryBackupCommand(studio.library, studio.layout.libraryDir, path.resolve(rest[0] ?? need(undefined, 'file')), { json: v.json });
  }
  if (sub === 'restore') {
    // The library must be closed while its database is swapped, so restore never opens a studio; it takes the lock itself.
    return libraryRestoreCommand(path.resolve(rest[0] ?? need(undefined, 'file')), cli.libraryDir, { json: v.json });
  }
  if (sub === 'undo-restore') {
    const lock = acquireLibraryLock(cli.libraryDir, { kind: 'command line', detail: 'atelier library undo-restore' });
    try {
      const result = undoRestore(cli.libraryDir);
      cli.print(result, () => `The library is back as it was before the restore. The restored database was kept at ${result.previousCopy ?? '(none)'}.`);
    } finally {
      lock.release();
    }
    return 0;
  }
  if (sub === 'rebuild') {
    const result = await rebuildLibrary(cli.libraryDir);
    cli.print(result, () =>
      [
        `Rebuilt ${result.ids.length} generations (${result.linkedParents} remix links) from the library's records.`,
        result.pictures.length ? `${result.pictures.length} pictures without a record came back from their own metadata.` : '',
        result.setAside ? `The database that was there is kept at ${result.setAside}.` : '',
        result.filesFromQuarantine ? `${result.filesFromQuarantine} files came back from quarantine.` : '',
        result.missingFiles.length ? `${result.missingFiles.length} files named by records are missing; those generations came back without them.` : '',
        ...result.unreadable.map((file) => `Could not read ${file}.`),
      ]
        .filter(Boolean)
        .join('\n'),
    );
    return 0;
  }
  if (sub === 'start-empty') {
    const setAside = startEmptyLibrary(cli.libraryDir);
    cli.print({ setAside }, () => (setAside ? `The database was moved to ${setAside}. The next start opens an empty library beside the same files; \`atelier library rebuild\` can still bring the generations back.` : 'There is no database to set aside.'));
    return 0;
  }
  if (sub === 'quarantine') {
    const action = rest[0];
    const library = openLibrary(cli.libraryDir, { owner: { kind: 'command line', detail: `atelier library quarantine${action ? ` ${action}` : ''}` } });
    try {
      if (action === 'rebuild') {
        const report = library.recoverFromRecords();
        cli.print(report, () => `Brought back ${report.ids.length} generations from quarantine.`);
      } else if (action === 'delete') {
        const removed = library.deleteQuarantine();
        cli.print(removed, () => `Deleted ${removed.files} quarantined files (${(removed.bytes / 1e6).toFixed(1)} MB).`);
      } else if (action === undefined) {
        const summary = library.quarantineSummary();
        cli.print(summary, () => `${summary.files} files (${(summary.bytes / 1e6).toFixed(1)} MB) in quarantine, ${summary.records} of them generation records.`);
      } else throw new StudioError('INVALID_INPUT', 'Try: atelier library quarantine [rebuild|delete]');
    } finally {
      library.close();
    }
    return 0;
  }
  throw new StudioError('INVALID_INPUT', 'Try: atelier library list|search QUERY|show ID|export ID... --to DIR|import DIR|backup FILE|restore FILE|undo-restore|rebuild|start-empty|quarantine');
}
