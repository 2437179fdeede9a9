import type { EditorView } from '@codemirror/view';
import { messageOf } from '../lib/errors';
import { downloadBlob, parseImportedText, safeFileName, toMarkdown } from '../lib/markdown-io';
import { aiPassages } from '../lib/suggestion';
import { toasts } from './toasts.svelte';
import { writer } from './write.svelte';
import type { StoredPassage } from './write-passages';

/** What the Write tab's file picker and drop zone accept. */
export const IMPORT_TYPES = '.md,.markdown,.txt,text/markdown,text/plain';

/** Downloads the open document as Markdown with front matter (title, dates, notes, AI passages). */
export function exportMarkdown(view: EditorView): void {
  const current = writer.current;
  if (!current) return;
  const state = view.state;
  const markdownText = toMarkdown({
    title: writer.title,
    createdAt: current.createdAt,
    updatedAt: writer.saveState === 'saved' ? current.updatedAt : Date.now(),
    words: writer.words,
    notes: writer.notes,
    body: state.doc.toString(),
    aiPassages: aiPassages(view).map((passage) => ({ text: state.sliceDoc(passage.from, passage.to), action: passage.action, generationIds: passage.generationIds })),
  });
  downloadBlob(new Blob([markdownText], { type: 'text/markdown;charset=utf-8' }), safeFileName(writer.title, 'md'));
}

/** A new document from a .md or .txt file; anything else is refused with a message. */
export async function importFile(file: File): Promise<void> {
  if (!/\.(md|markdown|txt)$/i.test(file.name) && !/^text\//.test(file.type)) {
    toasts.error(`“${file.name}” is not a Markdown or text file. Import .md or .txt files.`);
    return;
  }
  try {
    const parsed = parseImportedText(await file.text(), file.name);
    // Passages listed in the front matter are remembered where their text is found in the body.
    const passages: StoredPassage[] = [];
    for (const passage of parsed.aiPassages) {
      const at = passage.text ? parsed.body.indexOf(passage.text) : -1;
      if (at >= 0) passages.push({ id: crypto.randomUUID(), from: at, to: at + passage.text.length, action: passage.action, generationIds: passage.generationIds, text: passage.text });
    }
    const document = await writer.importDocument(parsed.title ?? 'Untitled', parsed.body, parsed.notes, passages);
    if (document) toasts.show(`Imported “${document.title}”`, 'success');
  } catch (error) {
    toasts.error(`Could not read ${file.name}: ${messageOf(error)}`);
  }
}
