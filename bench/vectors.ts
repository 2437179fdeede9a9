/**
 * Search by meaning at 100,000 vectors (512-d, CLIP ViT-B/32's size), through the library's own
 * SQL (src/main/library/vectors.ts): Hamming distance on sign bits picks candidates, exact cosine
 * re-ranks them. Median query time, and recall@20 against exact cosine search over every vector,
 * for a sweep of candidate counts (the library uses max(200, 20 × k) = 400 for k = 20).
 *
 * Two data sets: clustered vectors (1,000 centres, each vector a centre plus noise: pictures of a
 * library resemble each other the way real CLIP embeddings do) and uniform random directions (the
 * worst case for sign bits: no structure at all).
 */
import { newId } from '../src/main/library/clock';
import { insertGeneration } from '../src/main/library/generations';
import { openDatabase } from '../src/main/library/open-database';
import { insertEmbeddings, searchByVector, searchByVectorExact } from '../src/main/library/vectors';
import { header, median, runBench, table, tempDir, verdict } from './lib';

const TOTAL = Number(process.env.BENCH_VECTORS ?? 100_000);
const DIM = 512;
const K = 20;
const QUERIES = 25;
const CANDIDATES = [200, 400, 1000, 2000];

/** Deterministic normal samples (xorshift + Box–Muller): the same data every run. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

function normalised(values: Float32Array): Float32Array {
  let n = 0;
  for (const v of values) n += v * v;
  n = Math.sqrt(n);
  for (let i = 0; i < values.length; i++) values[i]! /= n;
  return values;
}

function makeSet(kind: 'clustered' | 'random', seed: number): { vector(i: number): Float32Array; query(q: number): Float32Array } {
  const g = gaussian(seed);
  const centres = Array.from({ length: 1000 }, () => normalised(Float32Array.from({ length: DIM }, g)));
  const sample = (centre: Float32Array | null) => normalised(Float32Array.from({ length: DIM }, (_, d) => (centre ? centre[d]! : 0) + (centre ? 0.04 : 1) * g()));
  return {
    vector: (i) => sample(kind === 'clustered' ? centres[i % centres.length]! : null),
    query: (q) => sample(kind === 'clustered' ? centres[(q * 37) % centres.length]! : null),
  };
}

runBench(async () => {
  header('vectors', `${TOTAL} × ${DIM}-d vectors in the library's embeddings table; k = ${K}; medians of ${QUERIES} queries`);
  const rows: (string | number)[][] = [];
  let libraryTime = Number.NaN;
  let libraryRecall = Number.NaN;
  for (const kind of ['clustered', 'random'] as const) {
    const dir = tempDir(`vectors-${kind}`);
    const { db } = openDatabase(dir);
    const set = makeSet(kind, kind === 'clustered' ? 7 : 11);
    let clock = Date.now();
    const ids: string[] = [];
    let t = performance.now();
    for (let start = 0; start < TOTAL; start += 5000) {
      db.transaction(() => {
        const batch = [];
        for (let i = start; i < Math.min(TOTAL, start + 5000); i++) {
          const now = ++clock;
          const id = newId(now);
          ids.push(id);
          insertGeneration(db, id, { kind: 'image', model: 'bench', prompt: `picture ${i}` }, [], now, () => newId(now));
          batch.push({ generationId: id, vector: set.vector(i) });
        }
        insertEmbeddings(db, 'clip', batch, clock);
      })();
    }
    const insertSeconds = (performance.now() - t) / 1000;
    const queries = Array.from({ length: QUERIES }, (_, q) => set.query(q));
    const exact: Set<string>[] = [];
    const exactTimes: number[] = [];
    for (let q = 0; q < QUERIES; q++) {
      t = performance.now();
      exact.push(new Set(searchByVectorExact(db, 'clip', queries[q]!, K).map((h) => h.id)));
      exactTimes.push(performance.now() - t);
    }
    rows.push([kind, 'exact cosine (every vector)', median(exactTimes), 1]);
    for (const candidates of CANDIDATES) {
      const times: number[] = [];
      let found = 0;
      for (let q = 0; q < QUERIES; q++) {
        const query = queries[q]!;
        t = performance.now();
        const hits = searchByVector(db, 'clip', query, { k: K, candidates });
        times.push(performance.now() - t);
        found += hits.filter((h) => exact[q]!.has(h.id)).length;
      }
      const recall = found / (QUERIES * K);
      rows.push([kind, `sign bits → ${candidates} → cosine`, median(times), recall]);
      if (kind === 'clustered' && candidates === 400) {
        libraryTime = median(times);
        libraryRecall = recall;
      }
    }
    console.log(`${kind}: inserted ${TOTAL} generations + vectors in ${insertSeconds.toFixed(1)} s`);
    db.close();
  }
  table(`KNN over ${TOTAL} vectors (ms, recall@${K} against exact)`, ['data', 'method', 'median ms', 'recall@20'], rows);
  verdict({ name: 'vector search median (library default, clustered)', value: libraryTime, target: 50, kind: 'max', unit: ' ms' });
  verdict({ name: 'vector search recall@20 (library default, clustered)', value: libraryRecall, target: 0.95, kind: 'min', unit: '' });
});
