import type { Library } from '../library';

/**
 * Every sha256 the library's generations (trashed ones too) name, and how many generations it
 * holds. The Library API has no "find asset by hash" lookup, so this pages through all of it.
 */
export function referencedHashes(library: Library): { hashes: Set<string>; generations: number } {
  const hashes = new Set<string>();
  let generations = 0;
  for (const trash of [false, true]) {
    let cursor: string | undefined;
    do {
      const page = library.listGenerations({ trash, limit: 500, cursor, sort: 'oldest' });
      for (const g of page.items) for (const asset of g.assets) hashes.add(asset.sha256);
      generations += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return { hashes, generations };
}
