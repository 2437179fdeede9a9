import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countWords } from '../../../src/main/library';
import { createTestLibrary, type TestLibrary } from './helpers';

let t: TestLibrary;
beforeEach(() => {
  t = createTestLibrary();
});
afterEach(() => t.cleanup());

describe('documents', () => {
  it('creates, reads and updates a document, recounting words when the body changes', () => {
    const doc = t.library.createDocument({ title: 'Chapter 1', body: '# Night\n\nIt was a dark and stormy night.' });
    expect(doc).toMatchObject({ title: 'Chapter 1', words: 8, notes: '', deletedAt: null });
    const updated = t.library.updateDocument(doc.id, { body: "Don't stop — well-known 3.14 *bold* words" });
    expect(updated.words).toBe(6);
    expect(updated.title).toBe('Chapter 1');
    expect(updated.updatedAt).toBeGreaterThan(doc.updatedAt);
    expect(t.library.updateDocument(doc.id, { notes: 'villain arrives' })).toMatchObject({ notes: "villain arrives", words: 6 });
    expect(t.library.getDocument(doc.id).body).toBe("Don't stop — well-known 3.14 *bold* words");
  });

  it('counts words in unicode text and ignores markdown syntax', () => {
    expect(countWords('')).toBe(0);
    expect(countWords('- [ ] **café** naïve _résumé_ > quote')).toBe(4);
    expect(countWords('Привет мир')).toBe(2);
  });

  it('lists live documents newest first, and the trash separately; restore brings one back', () => {
    const a = t.library.createDocument({ title: 'A' });
    const b = t.library.createDocument({ title: 'B' });
    t.library.updateDocument(a.id, { body: 'edited' });
    expect(t.library.listDocuments().map((d) => d.id)).toEqual([a.id, b.id]);
    t.library.softDeleteDocument(b.id);
    expect(t.library.listDocuments().map((d) => d.id)).toEqual([a.id]);
    expect(t.library.listDocuments({ trash: true }).map((d) => d.id)).toEqual([b.id]);
    expect(t.library.restoreDocument(b.id).deletedAt).toBeNull();
    expect(t.library.listDocuments().map((d) => d.id).sort()).toEqual([a.id, b.id].sort());
    t.library.softDeleteDocument(a.id);
    expect(t.library.purgeDeletedDocuments()).toBe(1);
    expect(() => t.library.getDocument(a.id)).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('snapshots versions that keep the body at that moment, listed newest first', () => {
    const doc = t.library.createDocument({ title: 'Poem', body: 'first draft' });
    const v1 = t.library.snapshotDocument(doc.id, 'manual');
    t.library.updateDocument(doc.id, { body: 'second draft, longer' });
    const v2 = t.library.snapshotDocument(doc.id, 'before rewrite');
    t.library.updateDocument(doc.id, { body: 'rewritten' });
    expect(t.library.listDocumentVersions(doc.id).map((v) => [v.id, v.reason, v.words])).toEqual([
      [v2.id, 'before rewrite', 3],
      [v1.id, 'manual', 2],
    ]);
    expect(t.library.getDocumentVersion(v1.id).body).toBe('first draft');
    expect(t.library.getDocumentVersion(v2.id).body).toBe('second draft, longer');
    expect(t.library.getDocument(doc.id).body).toBe('rewritten');
    expect(() => t.library.snapshotDocument('missing', 'manual')).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('autosaves a long body cheaply', () => {
    const doc = t.library.createDocument({ title: 'Novel' });
    const body = 'word '.repeat(100_000);
    const started = performance.now();
    for (let i = 0; i < 20; i++) t.library.updateDocument(doc.id, { body: body + i });
    const perSave = (performance.now() - started) / 20;
    expect(t.library.getDocument(doc.id).words).toBe(100_001);
    // Generous bound for a loaded CI box; a full-text reindex of the body would blow well past it.
    expect(perSave).toBeLessThan(500);
  });
});

describe('searching documents', () => {
  it('finds documents by their text as well as title and notes, with the words marked in an escaped snippet', () => {
    const byTitle = t.library.createDocument({ title: 'The lighthouse keeper', body: 'Chapter one.' });
    const byBody = t.library.createDocument({ title: 'Draft', body: `${'Filler words. '.repeat(20)}The Keeper's <lamp> & the sea. ${'More filler. '.repeat(20)}` });
    t.library.createDocument({ title: 'Other', body: 'Nothing to see.' });
    const hits = t.library.searchDocuments('keeper');
    expect(hits.map((h) => h.document.id)).toEqual([byTitle.id, byBody.id]);
    const snippet = hits[1]!.snippet;
    expect(snippet).toContain('The <mark>Keeper</mark>&#39;s &lt;lamp&gt; &amp; the sea.');
    expect(snippet.startsWith('…')).toBe(true);
    // Every word must appear; a trashed document is not found.
    expect(t.library.searchDocuments('keeper lamp').map((h) => h.document.id)).toEqual([byBody.id]);
    t.library.softDeleteDocument(byBody.id);
    expect(t.library.searchDocuments('lamp')).toEqual([]);
  });

  it('empties the documents trash of what has been there 30 days when the library opens', () => {
    const old = t.library.createDocument({ title: 'Old' });
    const recent = t.library.createDocument({ title: 'Recent' });
    t.library.softDeleteDocument(old.id);
    t.clock.now += 20 * 24 * 60 * 60 * 1000;
    t.library.softDeleteDocument(recent.id);
    t.clock.now += 11 * 24 * 60 * 60 * 1000;
    const library = t.reopen();
    expect(library.listDocuments({ trash: true }).map((d) => d.id)).toEqual([recent.id]);
  });
});
