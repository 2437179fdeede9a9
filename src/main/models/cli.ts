import { StudioError } from '../../shared/errors';
import type { Dtype } from './catalog';
import { Dtype as DtypeSchema } from './catalog';
import { formatBytes } from './hub-client';
import type { DownloadState, ModelManager } from './manager';
import { downloadId, parseRepoAtRevision } from './repo-spec';

/** Where the commands write; the CLI router passes process streams, tests pass collectors. */
export interface CommandIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stderr is a terminal (progress redraws one line instead of printing many). */
  isTTY?: boolean;
}

const processIO: CommandIO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTTY: process.stderr.isTTY,
};

function formatEta(ms: number | null): string {
  if (ms === null) return '--';
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function progressLine(state: DownloadState): string {
  const pct = state.bytesTotal > 0 ? ((state.bytesDone / state.bytesTotal) * 100).toFixed(1) : '0.0';
  return `${state.status} ${state.repo}@${state.revision} ${pct}% ${formatBytes(state.bytesDone)}/${formatBytes(state.bytesTotal)} ${formatBytes(state.rate)}/s ETA ${formatEta(state.etaMs)}`;
}

/** Prints download progress on stderr, at most every `minIntervalMs` while downloading. */
export function cliProgressPrinter(io: CommandIO = processIO, minIntervalMs = 500): (state: DownloadState) => void {
  let last = 0;
  let lastStatus = '';
  return (state) => {
    const now = Date.now();
    if (state.status === lastStatus && now - last < minIntervalMs) return;
    last = now;
    lastStatus = state.status;
    io.err(io.isTTY ? `\r\x1b[2K${progressLine(state)}${state.status === 'downloading' ? '' : '\n'}` : `${progressLine(state)}\n`);
  };
}

/**
 * Runs one command: its result goes to stdout as JSON with --json, else as `human` writes it; any
 * failure goes through `fail`. The exit code is `exitCode(result)` (0 by default).
 */
async function report<T>(opts: { json: boolean }, io: CommandIO, work: () => Promise<T>, human: (result: T) => string, exitCode: (result: T) => number = () => 0): Promise<number> {
  try {
    const result = await work();
    io.out(opts.json ? `${JSON.stringify(result)}\n` : human(result));
    return exitCode(result);
  } catch (error) {
    return fail(error, opts.json, io);
  }
}

function parseDtype(value: string | undefined): Dtype | undefined {
  if (!value) return undefined;
  const parsed = DtypeSchema.safeParse(value);
  if (!parsed.success) throw new StudioError('INVALID_INPUT', `--dtype must be one of ${DtypeSchema.options.join(', ')}.`);
  return parsed.data;
}

/** `atelier models pull owner/name[@revision] [--files a,b] [--dtype q4] [--quant Q4_K_M] [--json]` */
export async function modelsPullCommand(
  manager: ModelManager,
  repoAtRevision: string,
  opts: { files?: string; dtype?: string; quant?: string; name?: string; json: boolean },
  io: CommandIO = processIO,
): Promise<number> {
  return report(
    opts,
    io,
    async () => {
      const dtype = parseDtype(opts.dtype);
      const files = opts.files?.split(',').map((f) => f.trim()).filter(Boolean);
      const { repo, revision } = parseRepoAtRevision(repoAtRevision);
      const id = downloadId(repo, revision);
      const print = cliProgressPrinter(io);
      const unsubscribe = manager.subscribe((state) => state.id === id && print(state));
      return manager.pull(repoAtRevision, { files, dtype, quant: opts.quant, name: opts.name }).finally(unsubscribe);
    },
    (model) => `Installed ${model.name} as ${model.id} (${model.kind}, ${formatBytes(model.bytes)}) in ${model.path}\n`,
  );
}

/** `atelier models rm <id> [--json]` */
export async function modelsRemoveCommand(manager: ModelManager, id: string, opts: { json: boolean }, io: CommandIO = processIO): Promise<number> {
  return report(opts, io, () => manager.remove(id), (result) => {
    const used = result.usedBy > 0 ? ` ${result.usedBy} generation(s) in the library were made with it; they keep their outputs.` : '';
    return `Removed ${id}${result.filesDeleted ? ' and deleted its files' : ' (its folder was imported, so the files were left in place)'}.${used}\n`;
  });
}

/** `atelier models verify <id> [--json]`: exit code 1 when a file is missing or corrupted. */
export async function modelsVerifyCommand(manager: ModelManager, id: string, opts: { json: boolean }, io: CommandIO = processIO): Promise<number> {
  return report(
    opts,
    io,
    () => manager.verify(id),
    (result) =>
      result.files
        .filter((x) => x.problem)
        .map((f) => `BAD ${f.path}: ${f.problem}\n`)
        .join('') +
      `${result.ok ? 'OK' : 'FAILED'} ${id}: ${result.files.length} file(s) checked ${result.basis === 'download' ? 'against the digests recorded at download' : 'for size (imported folder; digests listed fresh)'}\n`,
    (result) => (result.ok ? 0 : 1),
  );
}

function fail(error: unknown, json: boolean, io: CommandIO): number {
  const shape = error instanceof StudioError ? error.toJSON() : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
  if (json) io.out(`${JSON.stringify({ error: shape })}\n`);
  io.err(`error [${shape.code}]: ${shape.message}\n`);
  return 1;
}
