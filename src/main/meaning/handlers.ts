import type { Handlers } from '../ipc/dispatch';
import type { MeaningIndex } from './meaning-index';

/** The contract's search-by-meaning calls (see meaning-index.ts). */
export function meaningHandlers(deps: {
  meaning: MeaningIndex;
}): Pick<Handlers, 'library.searchMeaning' | 'library.similar' | 'library.diversity' | 'meaning.status' | 'meaning.setModel' | 'meaning.setPaused' | 'meaning.useModel'> {
  const { meaning } = deps;
  return {
    'library.searchMeaning': async (input) => ({ items: await meaning.search(input) }),
    'library.similar': async ({ id, limit }) => ({ items: await meaning.similar(id, limit) }),
    'library.diversity': ({ ids }) => meaning.diversity(ids),
    'meaning.status': () => meaning.status(),
    'meaning.setModel': ({ kind, model }) => meaning.setModel(kind, model),
    'meaning.setPaused': ({ paused }) => meaning.setPaused(paused),
    'meaning.useModel': ({ model, kind }) => meaning.chooseModel(model, kind),
  };
}
