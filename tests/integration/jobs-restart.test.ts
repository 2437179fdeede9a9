import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { allFixtures, openStudio, tempDataDir } from './helpers/studio-fixtures';

describe('restarting the app with queued and running jobs', () => {
  it('loses nothing: the running job comes back interrupted and resumable, queued ones stay queued', async () => {
    const fx = await allFixtures();
    const dataDir = tempDataDir();
    const image = (steps: number) => ({
      kind: 'image' as const,
      params: { model: fx.images.imageOracle, prompt: `restart ${steps}`, negativePrompt: '', width: 512, height: 512, steps, guidance: 7, scheduler: 'euler' as const, seed: 3, batch: 1, strength: 0.75 },
    });
    const requests = [image(150), image(3), image(4)];
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'helpers/app-runner.ts'), dataDir, JSON.stringify(requests)], { stdio: ['ignore', 'pipe', 'ignore'] });
    const queued: string[] = [];
    const running = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const [what, id] = line.split(' ');
        if (what === 'queued') queued.push(id);
        if (what === 'running') resolve(id);
      });
      child.once('exit', () => reject(new Error('the app runner exited early')));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(queued).toHaveLength(3);
    expect(running).toBe(queued[0]);

    const studio = await openStudio(dataDir);
    try {
      studio.queue.setPaused(true);
      const jobs = new Map(studio.queue.list(10).map((j) => [j.id, j]));
      expect(jobs.get(queued[0])?.state).toBe('interrupted');
      // The queued ones were picked up by the new queue or are still waiting; none is lost.
      for (const id of queued.slice(1)) expect(['queued', 'running', 'done']).toContain(jobs.get(id)?.state);

      studio.queue.resume(queued[0]);
      studio.queue.setPaused(false);
      for (const id of queued) expect((await studio.queue.waitFor(id)).state).toBe('done');
    } finally {
      await studio.close();
    }
  });
});
