/**
 * How a CLI command shows progress on stderr (stdout carries only results): one line that updates
 * in place on a terminal; on a pipe or file, a line each time another tenth is done; nothing with
 * --quiet.
 */
export interface ProgressLine {
  update(step: number, total: number): void;
  /** Ends the updating line (a newline on a terminal once something was shown). */
  end(): void;
}

export function progressLine(stream: { isTTY?: boolean; write(text: string): unknown }, options: { quiet?: boolean; label?: string } = {}): ProgressLine {
  const label = options.label ?? 'step';
  if (options.quiet) return { update: () => undefined, end: () => undefined };
  if (stream.isTTY) {
    let shown = false;
    return {
      update(step, total) {
        const percent = total > 0 ? Math.floor((step / total) * 100) : 0;
        stream.write(`\r${label} ${step}/${total} (${percent}%)\u001b[K`);
        shown = true;
      },
      end() {
        if (shown) stream.write('\n');
        shown = false;
      },
    };
  }
  let lastTenth = -1;
  return {
    update(step, total) {
      if (total <= 0) return;
      const tenth = Math.floor((step / total) * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${label} ${step}/${total} (${tenth * 10}%)\n`);
    },
    end() {
      lastTenth = -1;
    },
  };
}
