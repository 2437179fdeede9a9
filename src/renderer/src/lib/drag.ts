/** Whether a drag carries files (not text or a link), so a drop zone can accept it. */
export function isFileDrag(event: DragEvent): boolean {
  return event.dataTransfer?.types.includes('Files') ?? false;
}
