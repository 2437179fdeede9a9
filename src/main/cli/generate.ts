import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CallInput, Generation, Job } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import { modelArg, need, num, type Cli } from './context';
import type { JobHost } from './job-host';
import { progressLine } from './progress';

async function runJob(cli: Cli, request: CallInput<'jobs.start'>, streamTokens: boolean): Promise<{ job: Job; generations: Generation[]; host: JobHost }> {
  const host = await cli.jobHost();
  const progress = progressLine(process.stderr, { quiet: cli.values.quiet });
  let jobId: string | null = null;
  // Subscribed before the job starts, so not one event of it is missed.
  const unsubscribe = host.subscribe((event, payload) => {
    if ((payload as { jobId?: string }).jobId !== jobId) return;
    if (event === 'jobs.token' && streamTokens) process.stdout.write((payload as { text: string }).text);
    if (event === 'jobs.progress') {
      const p = payload as { step: number; totalSteps: number };
      progress.update(p.step, p.totalSteps);
    }
  });
  jobId = await host.start(request);
  const job = await host.waitFor(jobId);
  unsubscribe();
  progress.end();
  if (job.state !== 'done') {
    throw new StudioError((job.error?.code as StudioError['code']) ?? 'CANCELLED', job.error?.message ?? `The job ended as ${job.state}.`);
  }
  const generations = await Promise.all(job.generationIds.map((id) => host.generation(id)));
  return { job, generations, host };
}

async function copyOutputs(host: JobHost, generations: Generation[], out: string, role: string): Promise<string[]> {
  const files = generations.flatMap((g) => g.assets.filter((a) => a.role === role));
  const written: string[] = [];
  const ext = path.extname(out);
  const stem = out.slice(0, out.length - ext.length);
  for (const [index, asset] of files.entries()) {
    const source = await host.assetPath(asset.id);
    if (!source) continue;
    const target = files.length === 1 ? out : `${stem}-${index + 1}${ext}`;
    await fs.mkdir(path.dirname(path.resolve(target)), { recursive: true });
    await fs.copyFile(source, target);
    written.push(path.resolve(target));
  }
  return written;
}

export async function generate(cli: Cli, what: string | undefined): Promise<void> {
  const v = cli.values;
  if (what === 'text') {
    const { generations } = await runJob(
      cli,
      {
        kind: 'text',
        params: {
          model: modelArg(v.model),
          prompt: need(v.prompt, 'prompt'),
          maxNewTokens: num(v['max-new-tokens'], 'max-new-tokens'),
          temperature: num(v.temperature, 'temperature'),
          topP: num(v['top-p'], 'top-p'),
          topK: num(v['top-k'], 'top-k'),
          minP: num(v['min-p'], 'min-p'),
          repetitionPenalty: num(v['repetition-penalty'], 'repetition-penalty'),
          seed: num(v.seed, 'seed'),
        },
      },
      !v.json,
    );
    const g = generations[0];
    if (v.json) {
      const tokens = typeof g.timings.tokens === 'number' ? g.timings.tokens : null;
      process.stdout.write(`${JSON.stringify({ generationId: g.id, text: g.outputText ?? '', tokens, provider: g.provider })}\n`);
    } else process.stdout.write('\n');
    return;
  }
  if (what === 'image') {
    const out = need(v.out, 'out');
    let initAssetId: string | undefined;
    if (v.init) initAssetId = await importInitImage(cli, v.init);
    const inpaint = inpaintOptions(v);
    if ((v.mask || inpaint.outpaint) && !v.init) throw new StudioError('INVALID_INPUT', '--mask and --outpaint need --init FILE: the picture to paint over.');
    const maskAssetId = v.mask ? await importInitImage(cli, v.mask) : undefined;
    const { generations, host } = await runJob(
      cli,
      {
        kind: 'image',
        params: {
          model: modelArg(v.model),
          prompt: need(v.prompt, 'prompt'),
          negativePrompt: v.negative,
          steps: num(v.steps, 'steps'),
          guidance: num(v.guidance, 'guidance'),
          scheduler: v.scheduler as 'euler' | undefined,
          seed: num(v.seed, 'seed'),
          width: num(v.width, 'width'),
          height: num(v.height, 'height'),
          batch: num(v.batch, 'batch'),
          initAssetId,
          strength: num(v.strength, 'strength'),
          ...(maskAssetId ? { maskAssetId } : {}),
          ...inpaint,
        },
      },
      false,
    );
    const files = await copyOutputs(host, generations, out, 'image');
    cli.print({ generationId: generations[0]?.id, generationIds: generations.map((g) => g.id), files, seed: generations[0]?.seed, provider: generations[0]?.provider }, () => files.join('\n'));
    return;
  }
  if (what === 'music') {
    const out = need(v.out, 'out');
    const { generations, host } = await runJob(
      cli,
      {
        kind: 'music',
        params: {
          model: modelArg(v.model),
          prompt: need(v.prompt, 'prompt'),
          seconds: num(v.seconds, 'seconds'),
          guidance: num(v.guidance, 'guidance'),
          temperature: num(v.temperature, 'temperature'),
          topK: num(v['top-k'], 'top-k'),
          seed: num(v.seed, 'seed'),
        },
      },
      false,
    );
    const files = await copyOutputs(host, generations, out, 'audio');
    const g = generations[0];
    const meta = (g?.params.meta ?? {}) as { sampleRate?: number };
    const audio = g?.assets.find((a) => a.role === 'audio');
    cli.print({ generationId: g?.id, files, seconds: (audio?.durationMs ?? 0) / 1000, sampleRate: meta.sampleRate ?? null, provider: g?.provider }, () => files.join('\n'));
    return;
  }
  throw new StudioError('INVALID_INPUT', 'generate needs a kind: text, image or music.');
}

/** --mask-blur, --masked-only and --outpaint L,T,R,B as image params (absent when not given). */
function inpaintOptions(v: Cli['values']): { maskBlur?: number; maskedOnly?: boolean; outpaint?: { left: number; top: number; right: number; bottom: number } } {
  const out: ReturnType<typeof inpaintOptions> = {};
  const blur = num(v['mask-blur'], 'mask-blur');
  if (blur !== undefined) out.maskBlur = blur;
  if (v['masked-only']) out.maskedOnly = true;
  if (v.outpaint) {
    const parts = v.outpaint.split(',').map((p) => Number(p.trim()));
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p % 8 !== 0)) {
      throw new StudioError('INVALID_INPUT', '--outpaint takes four multiples of 8, LEFT,TOP,RIGHT,BOTTOM (e.g. 64,0,64,0).');
    }
    const [left, top, right, bottom] = parts as [number, number, number, number];
    out.outpaint = { left, top, right, bottom };
  }
  return out;
}

/** img2img from the command line: the init file goes into the library first, so lineage can point at it. */
async function importInitImage(cli: Cli, file: string): Promise<string> {
  const studio = await cli.studio();
  const staged = path.join(studio.layout.stagingDir, `init-${Date.now()}${path.extname(file) || '.png'}`);
  const mime = /\.jpe?g$/i.test(file) ? 'image/jpeg' : /\.webp$/i.test(file) ? 'image/webp' : 'image/png';
  try {
    await fs.copyFile(file, staged);
    const generation = await studio.library.commitGeneration({
      kind: 'image',
      model: 'import',
      prompt: `Imported ${path.basename(file)}`,
      params: { source: 'import', file: path.basename(file) },
      files: [{ sourcePath: staged, mime, role: 'image' }],
    });
    return generation.assets[0].id;
  } finally {
    await fs.rm(staged, { force: true });
  }
}
