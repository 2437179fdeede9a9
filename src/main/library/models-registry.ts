import type { InstalledModel } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import type { ModelKind } from '../../shared/params';
import { prepare, type ReadableDB, type WritableDB } from './db';

/** An installed model as the registry keeps it: the contract's shape plus the weights' digest. */
export type InstalledModelRecord = InstalledModel & { digest: string | null };

interface ModelRow {
  id: string;
  kind: ModelKind;
  name: string;
  path: string;
  bytes: number;
  source: string;
  digest: string | null;
  installed_at: number;
}

function toModel(row: ModelRow): InstalledModelRecord {
  return { id: row.id, kind: row.kind, name: row.name, path: row.path, bytes: row.bytes, source: row.source, digest: row.digest, installedAt: row.installed_at };
}

export function upsertModel(db: WritableDB, model: Omit<InstalledModelRecord, 'installedAt' | 'digest'> & { installedAt?: number; digest?: string | null }, now: number): InstalledModelRecord {
  prepare(
    db,
    `INSERT INTO models (id, kind, name, path, bytes, source, digest, installed_at) VALUES (@id, @kind, @name, @path, @bytes, @source, @digest, @installedAt)
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, path = excluded.path, bytes = excluded.bytes,
       source = excluded.source, digest = excluded.digest, installed_at = excluded.installed_at`,
  ).run({ ...model, digest: model.digest ?? null, installedAt: model.installedAt ?? now });
  return getModel(db, model.id);
}

export function listModels(db: ReadableDB, kind?: ModelKind): InstalledModelRecord[] {
  const rows = kind
    ? prepare<ModelRow>(db, 'SELECT * FROM models WHERE kind = ? ORDER BY name COLLATE NOCASE, id').all(kind)
    : prepare<ModelRow>(db, 'SELECT * FROM models ORDER BY kind, name COLLATE NOCASE, id').all();
  return rows.map(toModel);
}

export function findModel(db: ReadableDB, id: string): InstalledModelRecord | null {
  const row = prepare<ModelRow>(db, 'SELECT * FROM models WHERE id = ?').get(id);
  return row ? toModel(row) : null;
}

export function getModel(db: ReadableDB, id: string): InstalledModelRecord {
  const model = findModel(db, id);
  if (!model) throw new StudioError('MODEL_NOT_INSTALLED', `The model "${id}" is not installed. Install it from the Models tab, or pick another model.`);
  return model;
}

/** Forgets an installed model (the caller deletes its folder). Returns whether it was there. */
export function removeModel(db: WritableDB, id: string): boolean {
  return prepare(db, 'DELETE FROM models WHERE id = ?').run(id).changes > 0;
}
