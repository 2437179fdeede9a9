import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function layeringErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the layering rule (docs/ARCHITECTURE.md) is enforced by lint', () => {
  it('fails on a planted forbidden import in each layer', async () => {
    expect(await layeringErrors('src/shared/planted.ts', "import { x } from '../main/api';\nexport const y = x;\n")).toHaveLength(1);
    expect(await layeringErrors('src/engine/planted.ts', "import { x } from '../main/library';\nexport const y = x;\n")).toHaveLength(1);
    expect(await layeringErrors('src/main/planted.ts', "import { x } from '../engine/server';\nexport const y = x;\n")).toHaveLength(1);
    expect(await layeringErrors('src/renderer/src/planted.ts', "import { x } from '../../main/api';\nexport const y = x;\n")).toHaveLength(1);
    expect(await layeringErrors('src/preload/planted.ts', "import { x } from '../engine/server';\nexport const y = x;\n")).toHaveLength(1);
  });

  it('allows electron only in src/main/shell and src/preload', async () => {
    const code = "import { app } from 'electron';\nexport const a = app;\n";
    expect(await layeringErrors('src/main/api-planted.ts', code)).toHaveLength(1);
    expect(await layeringErrors('src/engine/planted.ts', code)).toHaveLength(1);
    expect(await layeringErrors('src/renderer/src/planted.ts', code)).toHaveLength(1);
    expect(await layeringErrors('src/main/shell/planted.ts', code)).toEqual([]);
    expect(await layeringErrors('src/preload/planted.ts', code)).toEqual([]);
  });

  it('allows every layer to import shared', async () => {
    const code = "import { calls } from '../shared/contract';\nexport const c = calls;\n";
    expect(await layeringErrors('src/main/planted.ts', code)).toEqual([]);
    expect(await layeringErrors('src/engine/planted.ts', code)).toEqual([]);
  });
});
