import type { MeaningHit, MeaningStatus } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import type { Studio } from '../studio';

/** What the meaning commands need from the command line (src/main/cli/context.ts). */
export interface MeaningCli {
  readonly values: { json?: boolean; quiet?: boolean; model?: string; kind?: string };
  studio(): Promise<Studio>;
  print(value: unknown, human: () => string): void;
}

function line(hit: MeaningHit): string {
  const g = hit.generation;
  const why = [hit.similarity === null ? null : `similarity ${hit.similarity.toFixed(3)}`, hit.words ? 'words' : null].filter(Boolean).join(', ');
  const what = (g.prompt || g.outputText || '').replace(/\s+/g, ' ').slice(0, 60);
  const score = g.adherence ? `  adherence ${g.adherence.score.toFixed(1)}` : '';
  return `${g.id}  ${g.kind.padEnd(5)}  ${what}  (${why})${score}`;
}

async function call<T>(cli: MeaningCli, name: 'library.searchMeaning' | 'library.similar', input: Record<string, unknown>): Promise<T> {
  const studio = await cli.studio();
  const result = await studio.dispatch(name, input, { transport: 'cli' });
  if (!result.ok) throw new StudioError(result.error.code, result.error.message);
  return result.value as T;
}

/** --kind for the meaning commands: image, text or music (undefined when not given). */
function kindOption(cli: MeaningCli): 'image' | 'text' | 'music' | undefined {
  const kind = cli.values.kind;
  if (kind === undefined || kind === 'image' || kind === 'text' || kind === 'music') return kind;
  throw new StudioError('INVALID_INPUT', `--kind is image, text or music, not "${kind}".`);
}

export async function meaningSearchCommand(cli: MeaningCli, query: string, limit: number | undefined): Promise<number> {
  const kind = kindOption(cli);
  const result = await call<{ items: MeaningHit[] }>(cli, 'library.searchMeaning', { query, limit: limit ?? 20, ...(kind ? { kind } : {}) });
  cli.print(result, () => (result.items.length ? result.items.map(line).join('\n') : 'No matches.'));
  return 0;
}

export async function similarCommand(cli: MeaningCli, id: string, limit: number | undefined): Promise<number> {
  const result = await call<{ items: MeaningHit[] }>(cli, 'library.similar', { id, limit: limit ?? 20 });
  cli.print(result, () => (result.items.length ? result.items.map(line).join('\n') : 'Nothing else is indexed yet.'));
  return 0;
}

/** Indexes the library here, printing progress; a crash or Ctrl-C loses at most the batch in flight. */
export async function indexCommand(cli: MeaningCli): Promise<number> {
  const v = cli.values;
  const kind = kindOption(cli);
  const studio = await cli.studio();
  if (v.model) await studio.meaning.chooseModel(v.model, kind);
  const unsubscribe = studio.events.subscribe((event, payload) => {
    if (event !== 'meaning.status' || v.quiet) return;
    for (const k of (payload as MeaningStatus).kinds) if (k.model) process.stderr.write(`indexed ${k.kind} ${k.indexed}/${k.total}\n`);
  });
  try {
    studio.meaning.start();
    await studio.meaning.idle();
  } finally {
    unsubscribe();
  }
  const status = studio.meaning.status();
  if (status.error) throw new StudioError(status.error.code === 'MODEL_INVALID' ? 'MODEL_INVALID' : 'INTERNAL', status.error.message);
  if (!status.kinds.some((k) => k.model)) {
    throw new StudioError('MODEL_NOT_INSTALLED', 'No model to index with is chosen: run `atelier library index --model ID` with a CLIP model (pictures), a sentence embedder (texts) or a CLAP model (music).');
  }
  cli.print(status, () =>
    [
      ...status.kinds.filter((k) => k.model).map((k) => `${k.kind}: ${k.indexed} of ${k.total} indexed with ${k.model}`),
      ...status.skipped.map((s) => `not indexed: ${s.id} (${s.reason}); tried again next time`),
    ].join('\n'),
  );
  return 0;
}
