import { parseArgs } from 'node:util';
import type { EngineInfo } from '../../shared/engine-protocol';
import { StudioError, toErrorShape } from '../../shared/errors';
import { upscaleCommand } from '../upscale/cli';
import { Cli } from './context';
import { generate } from './generate';
import { libraryCommand } from './library';
import { modelsCommand } from './models';
import { OPTIONS, USAGE } from './options';
import { serve } from './serve';

/**
 * `atelier <command>`: the same studio as the app (library, engine, queue, handlers), driven from a
 * terminal. Results go to stdout (`--json` for machines); progress and messages go to stderr.
 * Each command group lives beside this file: library.ts, models.ts, generate.ts, serve.ts.
 */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, sub, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  const cli = new Cli(values, command === 'serve' ? 'browser' : 'cli', ['atelier', command, sub].filter(Boolean).join(' '));
  try {
    switch (command) {
      case 'info': {
        const info = await cli.call('app.info', {});
        cli.print(info, () =>
          [
            `Atelier ${info.version} (${info.mode})`,
            `data:      ${info.dataDir}`,
            `library:   ${info.libraryDir}`,
            `models:    ${info.modelsDir}`,
            `providers: ${info.providers.map((p) => `${p.name}${p.available ? '' : ' (unavailable)'}`).join(', ')}`,
            `preferred: ${info.preferredProvider}`,
            ...Object.entries(info.versions).map(([k, v]) => `${k.padEnd(10)} ${v}`),
          ].join('\n'),
        );
        return 0;
      }
      case 'engine': {
        if (sub !== 'info') throw new StudioError('INVALID_INPUT', 'Try: atelier engine info');
        const studio = await cli.studio();
        const info = await studio.engine.request<EngineInfo>({ type: 'info' });
        cli.print(info, () =>
          [
            `onnxruntime-node ${info.onnxruntime}, transformers.js ${info.transformers}, ${info.intraOpThreads} threads`,
            `chain: ${info.chain.join(' → ')}`,
            ...info.providers.map((p) => `  ${p.name.padEnd(7)} ${p.available ? 'available' : 'unavailable'}${p.reason ? ` — ${p.reason}` : ''}`),
          ].join('\n'),
        );
        return 0;
      }
      case 'library':
        return await libraryCommand(cli, sub, rest);
      case 'models':
        return await modelsCommand(cli, sub, rest);
      case 'generate':
        await generate(cli, sub);
        return 0;
      case 'upscale':
        return await upscaleCommand(cli, [sub, ...rest]);
      case 'serve':
        return await serve(cli);
      default:
        throw new StudioError('INVALID_INPUT', `Unknown command "${command}". See atelier --help.`);
    }
  } finally {
    if (command !== 'serve') await cli.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const shape = error instanceof Error && 'code' in error && (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? { code: 'INVALID_INPUT', message: `${error.message}. See atelier --help.` } : toErrorShape(error);
    process.stderr.write(`atelier: ${shape.message} [${shape.code}]\n`);
    process.exit(shape.code === 'INVALID_INPUT' ? 2 : 1);
  },
);

