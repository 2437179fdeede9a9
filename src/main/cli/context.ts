import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CallInput, CallName, CallOutput } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import { spawnNodeEngine } from '../engine-host/spawn-node';
import { openLibraryReader, readLibraryOwner, type LibraryReader } from '../library';
import { dataLayout, defaultDataDir } from '../paths';
import { createStudio, type Studio } from '../studio';
import { connectLocalEndpoint, localEndpointPath, type LocalEndpointClient } from '../transport/local-endpoint';
import { localJobHost, remoteJobHost, type JobHost } from './job-host';
import type { Values } from './options';

/** What every command has: its options, the studio (opened on first use), a read-only library view and the printer. */
export class Cli {
  private studioPromise: Promise<Studio> | null = null;
  private readerValue: LibraryReader | null = null;
  private remote: LocalEndpointClient | null = null;
  constructor(
    readonly values: Values,
    private readonly mode: 'cli' | 'browser' = 'cli',
    /** The command line as a person would say it, told to another process that finds the library taken. */
    private readonly what = 'atelier',
  ) {}

  get dataDir(): string {
    return path.resolve(this.values.library ?? defaultDataDir());
  }

  get libraryDir(): string {
    return dataLayout(this.dataDir).libraryDir;
  }

  studio(): Promise<Studio> {
    return (this.studioPromise ??= createStudio({
      dataDir: this.dataDir,
      mode: this.mode,
      ownerDetail: this.what,
      spawnEngine: () => spawnNodeEngine(),
      log: (message) => process.stderr.write(`${message}\n`),
    }));
  }

  /**
   * For commands that only read: a read-only connection that works beside a running app or
   * `serve` (no lock, no engine). Falls back to opening the studio when there is no database yet
   * or it needs migrating.
   */
  async reader(): Promise<LibraryReader> {
    const studio = this.studioPromise ? await this.studioPromise.catch(() => null) : null;
    if (studio) return studio.library;
    this.readerValue ??= openLibraryReader(this.libraryDir);
    return this.readerValue ?? (await this.studio()).library;
  }

  async call<N extends CallName>(name: N, input: CallInput<N>): Promise<CallOutput<N>> {
    const studio = await this.studio();
    const result = await studio.dispatch(name, input, { transport: 'cli' });
    if (!result.ok) throw new StudioError(result.error.code, result.error.message);
    return result.value as CallOutput<N>;
  }

  print(value: unknown, human: () => string): void {
    process.stdout.write(this.values.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
  }

  /**
   * Where this command's job runs: here, or in the desktop app or `serve` that owns the library
   * (handed over through its local endpoint, with its progress printed here). Without an endpoint
   * to talk to, the owner is named and nothing runs.
   */
  async jobHost(): Promise<JobHost> {
    try {
      return localJobHost(this, await this.studio());
    } catch (error) {
      if (!(error instanceof StudioError) || error.code !== 'LIBRARY_IN_USE') throw error;
      const client = await connectLocalEndpoint(localEndpointPath(this.libraryDir)).catch(() => {
        throw error;
      });
      const reader = await this.reader().catch(() => null);
      if (!reader) {
        client.close();
        throw error;
      }
      this.remote = client;
      const owner = readLibraryOwner(this.libraryDir);
      process.stderr.write(`The library is open in ${owner ? `Atelier's ${owner.kind} (process ${owner.pid})` : 'another Atelier'}: the job runs there.\n`);
      return remoteJobHost(client, reader);
    }
  }

  async close(): Promise<void> {
    this.remote?.close();
    this.readerValue?.close();
    // A studio that never opened (the library was someone else's) has nothing to close.
    const studio = this.studioPromise ? await this.studioPromise.catch(() => null) : null;
    await studio?.close();
  }
}

export function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new StudioError('INVALID_INPUT', `--${flag} needs a number, got "${value}".`);
  return n;
}

export function need(value: string | undefined, flag: string): string {
  if (!value) throw new StudioError('INVALID_INPUT', `--${flag} is required. See atelier --help.`);
  return value;
}

export function modelArg(value: string | undefined): string {
  const model = need(value, 'model');
  return existsSync(model) ? path.resolve(model) : model;
}
