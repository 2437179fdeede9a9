export interface GridLayout {
  columns: number;
  cellWidth: number;
  rowHeight: number;
  rows: number;
  totalHeight: number;
  firstRow: number;
  lastRow: number;
}

/**
 * Which rows of a fixed-cell grid are visible: only these are rendered, each positioned absolutely,
 * so a library of thousands of items costs as much as one screenful.
 */
export function layoutGrid(options: {
  count: number;
  width: number;
  height: number;
  scrollTop: number;
  minCell: number;
  gap: number;
  caption: number;
  overscan?: number;
}): GridLayout {
  const { count, width, height, scrollTop, minCell, gap, caption, overscan = 2 } = options;
  const columns = Math.max(1, Math.floor((width + gap) / (minCell + gap)));
  const cellWidth = Math.max(minCell, (width - gap * (columns - 1)) / columns);
  const rowHeight = cellWidth + caption + gap;
  const rows = Math.ceil(count / columns);
  const firstRow = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const lastRow = Math.min(rows - 1, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  return { columns, cellWidth, rowHeight, rows, totalHeight: rows * rowHeight, firstRow, lastRow };
}
