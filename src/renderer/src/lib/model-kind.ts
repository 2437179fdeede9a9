import type { ModelKind } from '../../../shared/params';

/** How the Models view names each kind of model. */
export const MODEL_KIND_LABEL: Record<ModelKind, string> = { text: 'Text', image: 'Image', music: 'Music', embedding: 'Search' };
