/**
 * What is loaded in the engine, with an estimate of its memory (file sizes, external data
 * included) and least-recently-used unloading when a memory budget would be exceeded. ONNX
 * sessions (SessionManager) and transformers.js models (text, music) share one budget.
 */
export interface ResidentEntry {
  key: string;
  kind: 'session' | 'text' | 'music' | 'embed';
  bytes: number;
  lastUsed: number;
  dispose(): Promise<void>;
}

export class ResidentCache {
  private readonly entries = new Map<string, ResidentEntry>();
  private clock = 0;
  /** Entries used since this tick belong to the running job and are never evicted for it. */
  private protectedSince = Number.POSITIVE_INFINITY;

  constructor(private budgetBytes: () => number) {}

  get(key: string): ResidentEntry | undefined {
    const entry = this.entries.get(key);
    if (entry) entry.lastUsed = ++this.clock;
    return entry;
  }

  /** Makes room for `bytes` (evicting least recently used entries), then records the entry. */
  async add(entry: Omit<ResidentEntry, 'lastUsed'>): Promise<string[]> {
    const evicted = await this.makeRoom(entry.bytes, entry.key);
    this.entries.set(entry.key, { ...entry, lastUsed: ++this.clock });
    return evicted;
  }

  async makeRoom(bytes: number, exceptKey?: string): Promise<string[]> {
    const budget = this.budgetBytes();
    const evicted: string[] = [];
    if (budget <= 0) return evicted;
    const candidates = [...this.entries.values()]
      .filter((entry) => entry.key !== exceptKey && entry.lastUsed < this.protectedSince)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    let total = this.totalBytes();
    for (const entry of candidates) {
      if (total + bytes <= budget) break;
      await this.remove(entry.key);
      evicted.push(entry.key);
      total -= entry.bytes;
    }
    return evicted;
  }

  async remove(key: string): Promise<boolean> {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    try {
      await entry.dispose();
    } catch {
      // A session that fails to release is gone from our books either way.
    }
    return true;
  }

  /** Removes entries whose key starts with `prefix` (or all). */
  async clear(prefix?: string): Promise<string[]> {
    const keys = [...this.entries.keys()].filter((key) => prefix === undefined || key.startsWith(prefix));
    for (const key of keys) await this.remove(key);
    return keys;
  }

  beginJob(): void {
    this.protectedSince = this.clock + 1;
  }

  endJob(): void {
    this.protectedSince = Number.POSITIVE_INFINITY;
  }

  totalBytes(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.bytes;
    return total;
  }

  list(): { key: string; kind: ResidentEntry['kind']; bytes: number }[] {
    return [...this.entries.values()].sort((a, b) => b.lastUsed - a.lastUsed).map(({ key, kind, bytes }) => ({ key, kind, bytes }));
  }
}
