/**
 * Shared helpers for the benchmarks: fixtures, an in-process engine context (the raw baseline),
 * a studio wired exactly as the CLI / tests wire it (createStudio + child_process engine), stats
 * and table printing. Benchmarks print ratios measured in ONE run; they never assert timings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { ensureImageFixtures } from '../scripts/fixtures/image';
import { ensureFixtures } from '../scripts/fixtures/index';
import { createEngineContext } from '../src/engine/runtime/context';
import { spawnNodeEngine } from '../src/main/engine-host/spawn-node';
import { createStudio, type Studio } from '../src/main/studio';
import type { Job } from '../src/shared/contract';
import type { RunHooks } from '../src/shared/engine-protocol';
import type { JobRequest } from '../src/shared/params';

export async function fixtures() {
  const [models, images] = await Promise.all([ensureFixtures(), ensureImageFixtures()]);
  return { ...models, images };
}

const tempDirs: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `atelier-bench-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The studio exactly as the CLI and the integration tests build it (engine = child_process.fork). */
export function openBenchStudio(): Promise<Studio> {
  return createStudio({ dataDir: tempDir('studio'), mode: 'cli', spawnEngine: () => spawnNodeEngine() });
}

/** The engine's runtime context, in THIS process (same defaults the engine starts with). */
export function inProcessContext() {
  return createEngineContext();
}

export function quietHooks(onToken?: (text: string, tokens: number) => void): RunHooks {
  return { signal: new AbortController().signal, onProgress: () => undefined, ...(onToken ? { onToken } : {}) };
}

/** Enqueue one job and wait for its final state; returns the job and the wall time (ms). */
export async function runJob(studio: Studio, request: JobRequest): Promise<{ job: Job; wallMs: number }> {
  const t0 = performance.now();
  const queued = studio.queue.enqueue(request);
  const job = await studio.queue.waitFor(queued.id);
  const wallMs = performance.now() - t0;
  if (job.state !== 'done') throw new Error(`bench job ${job.id} ended ${job.state}: ${job.error?.code ?? ''} ${job.error?.message ?? ''}`);
  return { job, wallMs };
}

/** The generation a finished job committed (timings are what the engine measured). */
export function timingsOf(studio: Studio, job: Job): Record<string, number> {
  const generation = studio.library.getGeneration(job.generationIds[0]!);
  return generation.timings;
}

// ---------------------------------------------------------------------------------------------
// statistics and printing
// ---------------------------------------------------------------------------------------------

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);
export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
export const mean = (values: readonly number[]): number => (values.length ? sum(values) / values.length : Number.NaN);

export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toFixed(digits);
}

export function table(title: string, header: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: readonly (string | number)[]) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

export interface Verdict {
  name: string;
  value: number;
  target: number;
  /** 'max': value must be ≤ target; 'min': value must be ≥ target. */
  kind: 'max' | 'min';
  unit: string;
}

const verdicts: Verdict[] = [];

/** Prints one result against its target; it never fails the run (benchmarks report, tests assert). */
export function verdict(v: Verdict): boolean {
  const ok = v.kind === 'max' ? v.value <= v.target : v.value >= v.target;
  const digits = v.unit === '×' ? 3 : 1;
  console.log(`RESULT ${v.name}: ${fmt(v.value, digits)}${v.unit} (target ${v.kind === 'max' ? '≤' : '≥'} ${v.target}${v.unit}) ${ok ? 'OK' : 'MISSED'}`);
  verdicts.push(v);
  return ok;
}

export function machineNote(): string {
  const cpus = os.cpus();
  return `${cpus.length}× ${cpus[0]?.model ?? 'cpu'}, node ${process.version}, load avg ${os.loadavg().map((l) => l.toFixed(2)).join('/')} (shared machine: expect noise)`;
}

export function header(name: string, what: string): void {
  console.log(`\n=== ${name} ===\n${what}\n${machineNote()}`);
}

export function eventLoopMonitor(): IntervalHistogram {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  return h;
}

/** ns histogram → ms */
export const nsToMs = (ns: number): number => ns / 1e6;

/** Runs `main`, cleans temp dirs, and exits 0 (benchmarks report; they do not fail on a missed target). */
export function runBench(main: () => Promise<void>): void {
  main()
    .catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    })
    .finally(() => {
      cleanupTempDirs();
      // The engine child, sockets and sharp threads may hold the loop open; the run is over.
      setTimeout(() => process.exit(process.exitCode ?? 0), 50).unref();
    });
}
