import type { AiPassage } from '../../../shared/contract';

/**
 * Where the record of AI-written passages lives. Decision: in the document row (a field beside
 * the body, saved with it), NOT inside the document text. A trailer comment in the Markdown would
 * be sent to the model with every prompt, counted as words, shown in the editor and editable by
 * accident. Kept with the document, the record follows it to every client and into backups (it
 * used to live in this browser's localStorage, which browser mode lost whenever its port changed).
 * Each entry keeps the text it covered, so a range that no longer matches (the text was restored
 * or changed elsewhere) is found again by its text or dropped rather than pointing at the wrong words.
 */
export type StoredPassage = AiPassage;

const LEGACY_PASSAGES_KEY = (documentId: string) => `atelier.aiPassages.${documentId}`;

/** Passages an earlier version kept in this browser's localStorage for `documentId`. */
export function legacyPassages(documentId: string): StoredPassage[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(LEGACY_PASSAGES_KEY(documentId)) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter(isStoredPassage) : [];
  } catch {
    return [];
  }
}

export function forgetLegacyPassages(documentId: string): void {
  try {
    localStorage.removeItem(LEGACY_PASSAGES_KEY(documentId));
  } catch {
    // storage disabled: there is nothing to forget
  }
}

function isStoredPassage(value: unknown): value is StoredPassage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'string' &&
    typeof v.from === 'number' &&
    typeof v.to === 'number' &&
    typeof v.action === 'string' &&
    typeof v.text === 'string' &&
    Array.isArray(v.generationIds) &&
    v.generationIds.every((id) => typeof id === 'string')
  );
}

/** The stored passages that still fit `body`, relocated by their text where they moved. */
export function relocatePassages(stored: readonly StoredPassage[], body: string): StoredPassage[] {
  const result: StoredPassage[] = [];
  for (const entry of stored) {
    if (entry.text.length === 0) continue;
    if (body.slice(entry.from, entry.to) === entry.text) result.push(entry);
    else {
      const at = body.indexOf(entry.text);
      if (at >= 0) result.push({ ...entry, from: at, to: at + entry.text.length });
    }
  }
  return result.sort((a, b) => a.from - b.from);
}
