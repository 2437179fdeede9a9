/**
 * Download throughput on loopback: our HubClient (redirect to the fake CDN, streaming sha256,
 * write to disk) against curl fetching the same file from the same fake hub. The hub runs in a
 * child process so it does not share our event loop. Prints MB/s for each and the ratio ours/curl.
 * Ours also fsyncs before the rename; curl neither hashes nor fsyncs, so two more baselines run
 * curl followed by `sync FILE` (the same durability) and curl followed by sha256sum.
 *
 * Usage: npx tsx bench/download.ts [sizeMB=200] [runs=5]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { HubClient } from '../src/main/models/hub-client';
import { verdict } from './lib';
import { startFakeHub } from '../tests/integration/helpers/fake-hub';

const REPO = 'bench/big';

async function serve(sizeMB: number): Promise<void> {
  // Random bytes so nothing along the way can compress them.
  const content = randomBytes(sizeMB * 1024 * 1024);
  const hub = await startFakeHub({ [REPO]: { files: [{ path: 'model.onnx', content }] } });
  process.stdout.write(`${hub.endpoint}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const sizeMB = Number(process.argv[2] ?? 200);
  const runs = Number(process.argv[3] ?? 5);
  const server = spawn(process.execPath, ['--import', 'tsx', __filename, '--serve', String(sizeMB)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout }).once('line', resolve);
      server.once('exit', () => reject(new Error('the fake hub did not start')));
    });
    const client = new HubClient({ endpoint });
    const [file] = await client.listFiles(REPO, 'main');
    if (!file) throw new Error('no file listed');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-dl-'));
    const bytes = file.size;
    const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);

    const ours: number[] = [];
    const curl: number[] = [];
    const curlVerified: number[] = [];
    const curlSynced: number[] = [];
    const haveSha256sum = spawnSync('sha256sum', ['--version']).status === 0;
    const haveCurl = spawnSync('curl', ['--version']).status === 0;
    // coreutils' `sync FILE` fsyncs just that file.
    const haveSyncFile = spawnSync('sync', [os.tmpdir()]).status === 0;
    // One untimed round first: the fake hub's first answer and our first download pay for JIT and
    // page-cache warm-up that steady state does not.
    await client.downloadFile(REPO, 'main', file, path.join(dir, 'warm.onnx'));
    rmSync(path.join(dir, 'warm.onnx'));
    if (haveCurl) {
      execFileSync('curl', ['-sS', '-L', '-o', path.join(dir, 'warm-curl.onnx'), client.resolveUrl(REPO, 'main', file.path)]);
      rmSync(path.join(dir, 'warm-curl.onnx'));
    }
    // Every timed run starts with the disk caught up (`sync`): otherwise the journal commit that our
    // fsync forces also pays for earlier runs' deletions (ext4 with `discard` trims them then).
    const settle = (): void => void spawnSync('sync');
    const url = client.resolveUrl(REPO, 'main', file.path);
    const curlTo = (out: string): void => {
      execFileSync('curl', ['-sS', '-L', '-o', out, url]);
      if (statSync(out).size !== bytes) throw new Error('curl fetched the wrong size');
    };
    const contenders: { times: number[]; run: (out: string) => Promise<void> | void }[] = [
      { times: ours, run: async (out) => void (await client.downloadFile(REPO, 'main', file, out)) },
    ];
    if (haveCurl) contenders.push({ times: curl, run: curlTo });
    // Durability like ours: the file is on the disk before it counts as downloaded.
    if (haveCurl && haveSyncFile) contenders.push({ times: curlSynced, run: (out) => (curlTo(out), void execFileSync('sync', [out])) });
    // The like-for-like check: curl plus the digest we compute while streaming (sequential here).
    if (haveCurl && haveSha256sum)
      contenders.push({
        times: curlVerified,
        run: (out) => {
          curlTo(out);
          if (execFileSync('sha256sum', [out]).toString().split(' ')[0] !== file.sha256) throw new Error('curl fetched different bytes');
        },
      });
    for (let i = 0; i < runs; i++) {
      // A different one goes first each round, so no contender always follows the same one.
      for (let k = 0; k < contenders.length; k++) {
        const contender = contenders[(i + k) % contenders.length]!;
        const out = path.join(dir, `run-${i}-${k}.onnx`);
        settle();
        const t0 = performance.now();
        await contender.run(out);
        contender.times.push(performance.now() - t0);
        rmSync(out);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    const oursMBps = mbps(median(ours));
    console.log(`file: ${(bytes / 1e6).toFixed(0)} MB, ${runs} runs each, median`);
    console.log(`ours (redirect + sha256 + write): ${oursMBps.toFixed(0)} MB/s  [${ours.map((t) => mbps(t).toFixed(0)).join(', ')}]`);
    if (!haveCurl) {
      console.log('curl not found');
      return;
    }
    const curlMBps = mbps(median(curl));
    console.log(`curl -L (write only):             ${curlMBps.toFixed(0)} MB/s  [${curl.map((t) => mbps(t).toFixed(0)).join(', ')}]`);
    if (curlSynced.length > 0) {
      const syncedMBps = mbps(median(curlSynced));
      console.log(`curl -L, then sync FILE:          ${syncedMBps.toFixed(0)} MB/s  [${curlSynced.map((t) => mbps(t).toFixed(0)).join(', ')}]`);
      console.log(`ratio ours/(curl + fsync): ${(oursMBps / syncedMBps).toFixed(2)} (same durability as ours)`);
    }
    if (curlVerified.length > 0) {
      const verifiedMBps = mbps(median(curlVerified));
      console.log(`curl -L, then sha256sum:          ${verifiedMBps.toFixed(0)} MB/s  [${curlVerified.map((t) => mbps(t).toFixed(0)).join(', ')}]`);
      console.log(`ratio ours/(curl + sha256sum): ${(oursMBps / verifiedMBps).toFixed(2)}`);
    }
    verdict({ name: 'download ours/curl (MB/s, median)', value: oursMBps / curlMBps, target: 0.8, kind: 'min', unit: '×' });
  } finally {
    server.kill();
  }
}

if (process.argv[2] === '--serve') void serve(Number(process.argv[3] ?? 200));
else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
