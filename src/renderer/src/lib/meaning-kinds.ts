import type { MeaningStatus, SearchableKind } from '../../../shared/contract';

/** What the views call each kind the index searches by meaning, inside a sentence ("searches pictures"). */
export const MEANING_KIND_LABEL: Record<SearchableKind, string> = { image: 'pictures', text: 'texts', music: 'music' };

/** Whether a model is chosen that searches this kind of generation by meaning. */
export function searchableByMeaning(status: MeaningStatus | null, kind: string): boolean {
  return status?.kinds.some((k) => k.kind === kind && k.model !== null) ?? false;
}
