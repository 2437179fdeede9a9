import { StudioError } from '../../shared/errors';
import { prepare, type ReadableDB, type WritableDB } from './db';

/** A stored setting's value, parsed from JSON; undefined when it was never set. */
export function getSetting(db: ReadableDB, key: string): unknown {
  const row = prepare<{ value: string }>(db, 'SELECT value FROM settings WHERE key = ?').get(key);
  return row ? (JSON.parse(row.value) as unknown) : undefined;
}

/** Keys the library keeps for itself (e.g. whether every generation has its record); not a person's settings. */
export const INTERNAL_PREFIX = 'internal.';

export function listSettings(db: ReadableDB): Record<string, unknown> {
  const all: Record<string, unknown> = {};
  for (const row of prepare<{ key: string; value: string }>(db, 'SELECT key, value FROM settings').all()) {
    if (!row.key.startsWith(INTERNAL_PREFIX)) all[row.key] = JSON.parse(row.value) as unknown;
  }
  return all;
}

/** Stores any JSON value; `undefined` deletes the key. */
export function setSetting(db: WritableDB, key: string, value: unknown): void {
  if (value === undefined) {
    prepare(db, 'DELETE FROM settings WHERE key = ?').run(key);
    return;
  }
  const json = JSON.stringify(value);
  if (json === undefined) throw new StudioError('INVALID_INPUT', `The setting "${key}" cannot be stored: its value is not JSON.`);
  prepare(db, 'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, json);
}
