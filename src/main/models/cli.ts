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

/** `atelier models pull owner/name[@revision] [--files a,b] [--dtype q4] [--json]` */
export async function modelsPullCommand(
  manager: ModelManager,
  repoAtRevision: string,
  opts: { files?: string; dtype?: string; name?: string; json: boolean },
  io: CommandIO = processIO,
): Promise<number> {
  try {
    let dtype: Dtype | undefined;
    if (opts.dtype) {
      const parsed = DtypeSchema.safeParse(opts.dtype);
      if (!parsed.success) throw new StudioError('INVALID_INPUT', `--dtype must be one of ${DtypeSchema.options.join(', ')}.`);
      dtype = parsed.data;
    }
    const files = opts.files?.split(',').map((f) => f.trim()).filter(Boolean);
    const { repo, revision } = parseRepoAtRevision(repoAtRevision);
    const id = downloadId(repo, revision);
    const print = cliProgressPrinter(io);
    const unsubscribe = manager.subscribe((state) => state.id === id && print(state));
    const model = await manager.pull(repoAtRevision, { files, dtype, name: opts.name }).finally(unsubscribe);
    io.out(opts.json ? `${JSON.stringify(model)}\n` : `Installed ${model.name} as ${model.id} (${model.kind}, ${formatBytes(model.bytes)}) in ${model.path}\n`);
    return 0;
  } catch (error) {
    return fail(error, opts.json, io);
  }
}

/** `atelier models rm <id> [--json]` */
export async function modelsRemoveCommand(manager: ModelManager, id: string, opts: { json: boolean }, io: CommandIO = processIO): Promise<number> {
  try {
    const result = await manager.remove(id);
    if (opts.json) io.out(`${JSON.stringify(result)}\n`);
    else {
      const used = result.usedBy > 0 ? ` ${result.usedBy} generation(s) in the library were made with it; they keep their outputs.` : '';
      io.out(`Removed ${id}${result.filesDeleted ? ' and deleted its files' : ' (its folder was imported, so the files were left in place)'}.${used}\n`);
    }
    return 0;
  } catch (error) {
    return fail(error, opts.json, io);
  }
}

/** `atelier models verify <id> [--json]`: exit code 1 when a file is missing or corrupted. */
export async function modelsVerifyCommand(manager: ModelManager, id: string, opts: { json: boolean }, io: CommandIO = processIO): Promise<number> {
  try {
    const result = await manager.verify(id);
    if (opts.json) io.out(`${JSON.stringify(result)}\n`);
    else {
      for (const f of result.files.filter((x) => x.problem)) io.out(`BAD ${f.path}: ${f.problem}\n`);
      io.out(`${result.ok ? 'OK' : 'FAILED'} ${id}: ${result.files.length} file(s) checked ${result.basis === 'download' ? 'against the digests recorded at download' : 'for size (imported folder; digests listed fresh)'}\n`);
    }
    return result.ok ? 0 : 1;
  } catch (error) {
    return fail(error, opts.json, io);
  }
}

function fail(error: unknown, json: boolean, io: CommandIO): number {
  const shape = error instanceof StudioError ? error.toJSON() : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
  if (json) io.out(`${JSON.stringify({ error: shape })}\n`);
  io.err(`error [${shape.code}]: ${shape.message}\n`);
  return 1;
}
