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

/**
 * The sha256 of every live generation's files, and for files only the trash holds, the trashed
 * generations that hold them (an import restores those instead of calling the file a duplicate
 * that a later purge would then delete for good).
 */
export function hashesByPlace(library: Library): { live: Set<string>; trashedBy: Map<string, string[]> } {
  const live = new Set<string>();
  const trashedBy = new Map<string, string[]>();
  for (const trash of [false, true]) {
    let cursor: string | undefined;
    do {
      const page = library.listGenerations({ trash, limit: 500, cursor, sort: 'oldest' });
      for (const g of page.items) {
        for (const asset of g.assets) {
          if (!trash) live.add(asset.sha256);
          else if (!live.has(asset.sha256)) trashedBy.set(asset.sha256, [...(trashedBy.get(asset.sha256) ?? []), g.id]);
        }
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return { live, trashedBy };
}
