import fs from 'node:fs';
import path from 'node:path';
import type { WritableDB } from './db';
import * as generationRecords from './generation-records';
import type { Quarantine } from './quarantine';
import { listRecordFiles, readRecord, recordPath, type GenerationRecordFile } from './records';

/**
 * Re-creates generations from the record files the library keeps beside its files (records.ts):
 * those in `records/` and those in quarantine, each with its original id, timestamps, parameters,
 * rating, favourite, notes, tags, trash state and assets, and its parent link where the parent is
 * in the library. A record's files are looked for in `files/`, then in quarantine (and moved back).
 * Generations already in the database are left as they are, so running it twice changes nothing.
 */

export interface RecoveryReport {
  /** Generations added, oldest first. */
  ids: string[];
  /** Parent links restored. */
  linkedParents: number;
  /** Files that came back from quarantine. */
  filesFromQuarantine: number;
  /** Assets whose file is nowhere in the library (the generation is added without them). */
  missingFiles: { generationId: string; sha256: string }[];
  /** Record files that could not be read (named, for a person to look at). */
  unreadable: string[];
}

export interface RecoveryContext {
  root: string;
  quarantine: Quarantine;
}

function storeRelative(sha256: string, ext: string): string {
  return path.join('files', sha256.slice(0, 2), sha256.slice(2, 4), `${sha256}.${ext}`);
}

export function recoverFromRecords(db: WritableDB, ctx: RecoveryContext): RecoveryReport {
  const report: RecoveryReport = { ids: [], linkedParents: 0, filesFromQuarantine: 0, missingFiles: [], unreadable: [] };
  const byId = new Map<string, { record: GenerationRecordFile; file: string }>();
  // Live records win over quarantined ones of the same id.
  for (const file of [...listRecordFiles(ctx.root), ...listRecordFiles(ctx.quarantine.dir)]) {
    const record = readRecord(file);
    if (!record) {
      report.unreadable.push(file);
      continue;
    }
    if (!byId.has(record.generation.id)) byId.set(record.generation.id, { record, file });
  }
  const ordered = [...byId.values()].sort((a, b) => a.record.generation.createdAt - b.record.generation.createdAt || (a.record.generation.id < b.record.generation.id ? -1 : 1));

  const fileAvailable = (sha256: string, ext: string): boolean => {
    const relative = storeRelative(sha256, ext);
    const target = path.join(ctx.root, relative);
    if (fs.existsSync(target)) return true;
    const quarantined = ctx.quarantine.find(relative);
    if (!quarantined) return false;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.renameSync(quarantined, target);
    report.filesFromQuarantine++;
    return true;
  };

  db.transaction(() => {
    for (const { record } of ordered) {
      const added = generationRecords.insertFromRecord(db, record, (asset) => {
        if (fileAvailable(asset.sha256, asset.ext)) return true;
        report.missingFiles.push({ generationId: record.generation.id, sha256: asset.sha256 });
        return false;
      });
      if (added) report.ids.push(record.generation.id);
    }
    const addedIds = new Set(report.ids);
    for (const { record } of ordered) {
      const { id, parentId } = record.generation;
      if (addedIds.has(id) && parentId && generationRecords.linkParent(db, id, parentId)) report.linkedParents++;
    }
  })();

  // Records that came back from quarantine move back to records/ (the caller then rewrites them
  // from the rows): moved, not deleted and rewritten, so there is no moment without a record.
  for (const id of report.ids) {
    const entry = byId.get(id)!;
    const live = recordPath(ctx.root, id);
    if (!live || entry.file === live) continue;
    fs.mkdirSync(path.dirname(live), { recursive: true });
    fs.renameSync(entry.file, live);
  }
  return report;
}
