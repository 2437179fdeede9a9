import type { MeaningStatus } from '../../../shared/contract';

export type MeaningKind = MeaningStatus['kinds'][number]['kind'];

/** What the index calls each kind it searches by meaning, as a heading ("Pictures: 3 of 5"). */
export const MEANING_KIND_LABEL: Record<MeaningKind, string> = { image: 'Pictures', text: 'Texts', music: 'Music' };

/** Whether a model is chosen that searches this kind of generation by meaning. */
export function searchableByMeaning(status: MeaningStatus | null, kind: string): boolean {
  return status?.kinds.some((k) => k.kind === kind && k.model !== null) ?? false;
}
