import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/main/library/clock';

describe('generation and job ids', () => {
  it('sort in the order they were made, also within one millisecond and when the clock steps back', () => {
    const ids = [newId(1_800_000_000_000), newId(1_800_000_000_000), newId(1_800_000_000_000), newId(1_799_999_999_000), newId(1_800_000_000_001)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
