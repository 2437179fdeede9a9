import type { WritableDB } from '../db';

export const version = 3;
export const name = 'AI-assisted passages inside the document';

/**
 * The record of which passages an AI wrote lived in the renderer's localStorage, so it stayed
 * with one browser profile (and browser mode lost it on every start, its port being new). It now
 * lives in the document row as JSON, so it follows the document to every client and into backups.
 * Existing documents start with no passages: nothing on the server side knew of them.
 */
export function up(db: WritableDB): void {
  db.exec(`ALTER TABLE documents ADD COLUMN ai_passages TEXT NOT NULL DEFAULT '[]'`);
}
