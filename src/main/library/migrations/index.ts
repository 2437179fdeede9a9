import type { Migration } from './types';
import * as initial from './001-initial';
import * as documentSearch from './002-document-search';
import * as documentAiPassages from './003-document-ai-passages';
import * as meaningVectors from './004-meaning-vectors';
import * as embeddingModels from './005-embedding-models-batch-diversity';

export type { Migration } from './types';

/** Every schema step, in order. Add a file per version; never edit a shipped one. */
export const MIGRATIONS: readonly Migration[] = [initial, documentSearch, documentAiPassages, meaningVectors, embeddingModels];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
