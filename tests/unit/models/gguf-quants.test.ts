import { describe, expect, it } from 'vitest';
import { fileForQuant, listGgufQuants, quantOfFile } from '../../../src/main/models/gguf-quants';
import type { HubFile } from '../../../src/main/models/hub-client';

function tree(files: [string, number][]): HubFile[] {
  return files.map(([path, size]) => ({ path, size, oid: 'x', sha256: null }));
}

// The shapes of bartowski's and Qwen's GGUF repositories, with sizes in bytes.
const bartowski = tree([
  ['.gitattributes', 2000],
  ['README.md', 9000],
  ['Llama-3.2-1B-Instruct-f16.gguf', 2_480_000_000],
  ['Llama-3.2-1B-Instruct-Q8_0.gguf', 1_320_000_000],
  ['Llama-3.2-1B-Instruct-Q4_K_M.gguf', 808_000_000],
  ['Llama-3.2-1B-Instruct-IQ4_XS.gguf', 743_000_000],
  ['Llama-3.2-1B-Instruct-Q4_0_4_4.gguf', 771_000_000],
]);

describe('GGUF quantisations from a hub tree', () => {
  it('lists each single-file quantisation with its size, smallest first, and leaves other files out', () => {
    const { quants } = listGgufQuants(bartowski);
    expect(quants.map((q) => [q.quant, q.bytes])).toEqual([
      ['IQ4_XS', 743_000_000],
      ['Q4_0_4_4', 771_000_000],
      ['Q4_K_M', 808_000_000],
      ['Q8_0', 1_320_000_000],
      ['F16', 2_480_000_000],
    ]);
    expect(quants.every((q) => q.supported && q.parts === 1)).toBe(true);
  });

  it('preselects Q4_K_M, and falls back to the next best when a repository has none', () => {
    expect(listGgufQuants(bartowski).defaultFile).toBe('Llama-3.2-1B-Instruct-Q4_K_M.gguf');
    const withoutQ4km = bartowski.filter((f) => !f.path.includes('Q4_K_M'));
    expect(listGgufQuants(withoutQ4km).defaultFile).toBe('Llama-3.2-1B-Instruct-Q8_0.gguf');
    expect(listGgufQuants(tree([['model-IQ4_XS.gguf', 10], ['model-F16.gguf', 30]])).defaultFile).toBe('model-IQ4_XS.gguf');
    expect(listGgufQuants(tree([['README.md', 1]]))).toEqual({ quants: [], defaultFile: null });
  });

  it('reads lower-case names (Qwen) and dotted ones (TheBloke) as the same quantisations', () => {
    expect(quantOfFile('qwen2.5-0.5b-instruct-q4_k_m.gguf')).toBe('Q4_K_M');
    expect(quantOfFile('qwen2.5-0.5b-instruct-fp16.gguf')).toBe('FP16');
    expect(quantOfFile('phi-2.Q5_K_S.gguf')).toBe('Q5_K_S');
    expect(quantOfFile('sub/dir/model-bf16.gguf')).toBe('BF16');
    expect(quantOfFile('my-own-model.gguf')).toBe('my-own-model');
  });

  it('lists a split quantisation once, with the size of all its parts, as unsupported with the reason', () => {
    const { quants, defaultFile } = listGgufQuants(
      tree([
        ['qwen2.5-7b-instruct-q4_k_m-00002-of-00002.gguf', 700],
        ['qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf', 4000],
        ['Q8_0/model-Q8_0-00001-of-00003.gguf', 3000],
        ['Q8_0/model-Q8_0-00002-of-00003.gguf', 3000],
        ['qwen2.5-7b-instruct-q2_k.gguf', 3000],
        ['mmproj-model-f16.gguf', 600],
      ]),
    );
    expect(quants).toEqual([
      { quant: 'Q2_K', file: 'qwen2.5-7b-instruct-q2_k.gguf', bytes: 3000, parts: 1, supported: true },
      { quant: 'Q4_K_M', file: 'qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf', bytes: 4700, parts: 2, supported: false, reason: 'split into 2 files; Atelier downloads single-file quantisations only' },
      { quant: 'Q8_0', file: 'Q8_0/model-Q8_0-00001-of-00003.gguf', bytes: 6000, parts: 3, supported: false, reason: 'split into 3 files, of which the hub lists 2' },
    ]);
    // The split Q4_K_M is not preselected; the only single file is.
    expect(defaultFile).toBe('qwen2.5-7b-instruct-q2_k.gguf');
  });

  it('maps --quant to its one file, and says what is offered when the quantisation is missing or split', () => {
    const list = listGgufQuants([...bartowski, ...tree([['big-Q6_K-00001-of-00002.gguf', 1], ['big-Q6_K-00002-of-00002.gguf', 1]])]);
    expect(fileForQuant(list, 'a/b', 'q4_k_m')).toBe('Llama-3.2-1B-Instruct-Q4_K_M.gguf');
    expect(fileForQuant(list, 'a/b', 'Llama-3.2-1B-Instruct-Q8_0.gguf')).toBe('Llama-3.2-1B-Instruct-Q8_0.gguf');
    expect(() => fileForQuant(list, 'a/b', 'Q3_K_L')).toThrow(/a\/b has no Q3_K_L quantisation; it offers IQ4_XS, Q4_0_4_4, Q4_K_M, Q8_0, F16/);
    expect(() => fileForQuant(list, 'a/b', 'Q6_K')).toThrow(/Q6_K of a\/b cannot be downloaded: split into 2 files/);
    expect(() => fileForQuant(listGgufQuants(tree([['README.md', 1]])), 'a/b', 'Q4_K_M')).toThrow(/holds no \.gguf file/);
  });
});
