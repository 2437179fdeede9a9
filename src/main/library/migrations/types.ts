import type { WritableDB } from '../db';

/** One schema step. `up` runs inside the single transaction that applies every pending step. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: WritableDB): void;
}
