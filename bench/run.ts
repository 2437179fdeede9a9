/** Runs every benchmark in sequence, each in its own process (clean event loop, RSS and engine). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const BENCHES = ['engine-roundtrip', 'event-loop', 'text-overhead', 'image-pipeline', 'music', 'library', 'vectors', 'download', 'upscale', 'credentials', 'library-signing', 'gguf-vs-onnx'];
const only = process.argv.slice(2);
let failed = 0;
for (const name of BENCHES.filter((b) => only.length === 0 || only.includes(b))) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`bench ${name} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
