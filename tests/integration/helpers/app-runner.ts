// A stand-in for the app process: opens a studio on a data folder, queues the jobs given as JSON on
// argv, prints each job id, then reports "running <id>" once the first job is really in the engine.
// The test SIGKILLs this process to simulate the app dying.
import { openStudio } from './studio-fixtures';

async function main(): Promise<void> {
  const [dataDir, requestsJson] = process.argv.slice(2);
  const studio = await openStudio(dataDir);
  const requests = JSON.parse(requestsJson) as Parameters<typeof studio.queue.enqueue>[0][];
  studio.events.subscribe((event, payload) => {
    if (event === 'jobs.progress') process.stdout.write(`running ${(payload as { jobId: string }).jobId}\n`);
  });
  for (const request of requests) process.stdout.write(`queued ${studio.queue.enqueue(request).id}\n`);
}

void main();
