import { describe, expect, it } from 'vitest';
import { floatTensor, floatToHalf, halfToFloat, toFloat32 } from '../../../../src/engine/image/tensors';

describe('float16 conversion', () => {
  it('round-trips every finite half value exactly, and keeps infinities and NaN', () => {
    for (let h = 0; h < 0x10000; h++) {
      const exp = (h >>> 10) & 0x1f;
      const v = halfToFloat(h);
      if (exp === 0x1f && (h & 0x3ff) !== 0) {
        expect(Number.isNaN(v)).toBe(true);
        expect(floatToHalf(v) & 0x7c00).toBe(0x7c00);
        continue;
      }
      expect(floatToHalf(v)).toBe(h);
    }
  });

  it('rounds to the nearest half, ties to even, and saturates to infinity', () => {
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1+2⁻¹⁰: even mantissa wins
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie between 1+2⁻¹⁰ and 1+2⁻⁹: to the even one
    expect(floatToHalf(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above the tie
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // rounds past the largest half
    expect(floatToHalf(-1e6)).toBe(0xfc00);
    expect(floatToHalf(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(floatToHalf(2 ** -26)).toBe(0x0000); // below half of it: zero
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(halfToFloat(0x3555)).toBeCloseTo(1 / 3, 3);
  });

  it('makes float16 tensors of raw half bits and reads them back as float32', () => {
    const data = new Float32Array([0, 1, -2.5, 0.1, 1000]);
    const t = floatTensor('float16', data, [5]);
    expect(t.type).toBe('float16');
    const back = toFloat32(t);
    for (let i = 0; i < data.length; i++) expect(back[i]).toBeCloseTo(data[i]!, 2);
    expect(toFloat32(floatTensor('float32', data, [5]))).toBe(data);
  });
});
