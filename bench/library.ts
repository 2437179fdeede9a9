/**
 * Library at 100,000 generations: insert throughput of commitGeneration (one durable transaction
 * per row: WAL + synchronous=FULL) on the first N rows, then the rest seeded through the library's
 * own insertGeneration (same SQL, same FTS triggers) in batched transactions on a second connection
 * opened with the library's openDatabase (the library exposes no batch insert); 1 in 5 rows rated.
 * Then, on the reopened library: first page, a filtered page, an FTS query — medians.
 */
import { newId } from '../src/main/library/clock';
import { insertGeneration } from '../src/main/library/generations';
import { openLibrary } from '../src/main/library';
import { openDatabase } from '../src/main/library/open-database';
import type { GenerationKind } from '../src/shared/params';
import { header, median, quantile, runBench, table, tempDir, verdict } from './lib';

const TOTAL = Number(process.env.BENCH_ROWS ?? 100_000);
const COMMIT_N = Number(process.env.BENCH_COMMITS ?? 500);
const QUERY_RUNS = 9;
const WORDS = ['castle', 'forest', 'sunset', 'portrait', 'lighthouse', 'city', 'night', 'mountains', 'dragon', 'river', 'storm', 'garden', 'harbor', 'violin', 'piano'];
const KINDS: GenerationKind[] = ['image', 'text', 'music'];

function row(i: number) {
  const kind = KINDS[i % 3]!;
  const prompt = `${WORDS[i % 15]} ${WORDS[(i * 7) % 15]} ${WORDS[(i * 11) % 13]} number ${i}`;
  return { kind, model: `model-${i % 4}`, prompt, seed: i, params: { prompt, steps: 20, seed: i }, provider: 'cpu', timings: { totalMs: 100 }, outputText: kind === 'text' ? `story about ${prompt}` : null };
}

runBench(async () => {
  header('library', `${TOTAL} generations; commitGeneration throughput on the first ${COMMIT_N}; query medians of ${QUERY_RUNS}`);
  const dir = tempDir('library');
  let lib = openLibrary(dir);
  let t = performance.now();
  for (let i = 0; i < COMMIT_N; i++) await lib.commitGeneration(row(i));
  const commitRate = COMMIT_N / ((performance.now() - t) / 1000);
  lib.close();

  const { db } = openDatabase(dir);
  const rate = db.prepare('UPDATE generations SET rating = ? WHERE id = ?');
  t = performance.now();
  const BATCH = 5000;
  let clock = Date.now();
  for (let start = COMMIT_N; start < TOTAL; start += BATCH) {
    db.transaction(() => {
      for (let i = start; i < Math.min(TOTAL, start + BATCH); i++) {
        const now = ++clock;
        const id = newId(now);
        insertGeneration(db, id, row(i), [], now, () => newId(now));
        if (i % 5 === 0) rate.run(1 + (i % 5 === 0 ? (i / 5) % 5 : 0), id);
      }
    })();
  }
  const batchRate = (TOTAL - COMMIT_N) / ((performance.now() - t) / 1000);
  db.close();

  lib = openLibrary(dir);
  const time = (fn: () => unknown) => {
    const times: number[] = [];
    let result: unknown;
    for (let i = 0; i < QUERY_RUNS; i++) {
      const s = performance.now();
      result = fn();
      times.push(performance.now() - s);
    }
    return { times, result };
  };
  const first = time(() => lib.listGenerations({ limit: 60 }));
  const filtered = time(() => lib.listGenerations({ kind: 'image', minRating: 4, limit: 60 }));
  const fts = time(() => lib.searchGenerations({ query: 'lighthouse storm', limit: 60 }));
  const sizes = [first, filtered, fts].map((q) => {
    const r = q.result as { items: unknown[]; total?: number };
    return `${r.items.length}${r.total !== undefined ? ` of ${r.total}` : ''}`;
  });
  lib.close();

  table('insert throughput', ['path', 'rows', 'rows/s'], [
    ['commitGeneration (1 durable tx per row, no files)', COMMIT_N, commitRate],
    [`insertGeneration batched (${BATCH} rows / tx)`, TOTAL - COMMIT_N, batchRate],
  ]);
  table(`queries on ${TOTAL} rows (ms)`, ['query', 'rows', 'median', 'p90 (first run incl.)'], [
    ['first page (limit 60, newest)', sizes[0]!, median(first.times), quantile(first.times, 0.9)],
    ['filtered page (kind image, minRating 4)', sizes[1]!, median(filtered.times), quantile(filtered.times, 0.9)],
    ["FTS 'lighthouse storm'", sizes[2]!, median(fts.times), quantile(fts.times, 0.9)],
  ]);
  verdict({ name: 'library first page', value: median(first.times), target: 50, kind: 'max', unit: ' ms' });
  verdict({ name: 'library filtered page', value: median(filtered.times), target: 50, kind: 'max', unit: ' ms' });
  verdict({ name: 'library FTS query', value: median(fts.times), target: 50, kind: 'max', unit: ' ms' });
});
