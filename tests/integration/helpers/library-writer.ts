/**
 * Child process for the library crash test: commits small generations in a loop and prints each
 * acknowledged id (with its files' sha256) on stdout only after commitGeneration has returned.
 * The parent SIGKILLs it at random moments and checks that every acknowledged commit survived.
 *
 * Usage: node --import tsx tests/integration/helpers/library-writer.ts <libraryDir> <scratchDir>
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openLibrary } from '../../../src/main/library';

function say(line: string): void {
  // writeSync: the line is on the pipe before the next commit starts, even if we die right after.
  fs.writeSync(1, `${line}\n`);
}

async function main(): Promise<void> {
  const [libraryDir, scratchDir] = process.argv.slice(2);
  if (!libraryDir || !scratchDir) throw new Error('usage: library-writer <libraryDir> <scratchDir>');
  fs.mkdirSync(scratchDir, { recursive: true });
  const library = openLibrary(libraryDir);
  say('ready');
  const shared = randomBytes(64); // the same bytes in many commits exercise de-duplication
  for (let n = 0; ; n++) {
    const fileCount = 1 + (n % 2);
    const files = [];
    const hashes: string[] = [];
    for (let f = 0; f < fileCount; f++) {
      const body = f === 1 && n % 3 === 0 ? shared : randomBytes(200 + Math.floor(Math.random() * 4000));
      const sourcePath = path.join(scratchDir, `${process.pid}-${n}-${f}.png`);
      fs.writeFileSync(sourcePath, body);
      hashes.push(createHash('sha256').update(body).digest('hex'));
      files.push({ sourcePath, mime: f === 0 ? 'image/png' : 'audio/wav', role: f === 0 ? 'image' : 'audio', width: 8, height: 8 });
    }
    const generation = await library.commitGeneration({
      kind: 'image',
      model: 'crash-test',
      prompt: `crash test ${n}`,
      params: { n },
      timings: { totalMs: n },
      files,
    });
    say(`${generation.id} ${hashes.join(',')}`);
    for (const file of files) fs.rmSync(file.sourcePath, { force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
