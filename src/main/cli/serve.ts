import { existsSync } from 'node:fs';
import path from 'node:path';
import { startOpenAiServer, type OpenAiServer } from '../openai/server';
import type { Studio } from '../studio';
import { startBrowserServer } from '../transport/ws-server';
import { num, type Cli } from './context';

function rendererDir(): string | undefined {
  const candidates = [path.resolve(__dirname, '../renderer'), path.resolve(__dirname, '../../../out/renderer')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
}

function startOpenAiEndpoint(studio: Studio, cli: Cli): Promise<OpenAiServer> {
  return startOpenAiServer(
    {
      // Models on other servers are not offered again: one added from this very endpoint would have the engine wait on itself.
      textModels: () => studio.library.listModels().filter((m) => m.kind === 'text' && !m.path.toLowerCase().endsWith('.openai.json')),
      engine: studio.engine,
      onEngineStream: (listener) => studio.onEngineStream(listener),
      stagingDir: studio.layout.stagingDir,
    },
    { port: num(cli.values['openai-port'], 'openai-port'), ...(cli.values['openai-key'] ? { apiKey: cli.values['openai-key'] } : {}) },
  );
}

export async function serve(cli: Cli): Promise<number> {
  const studio = await cli.studio();
  const staticDir = rendererDir();
  if (!staticDir) process.stderr.write('The renderer is not built yet: run `npm run build` (npm run serve does it for you).\n');
  const server = await startBrowserServer({
    dispatch: studio.dispatch,
    events: studio.events,
    assets: studio.assets,
    filesRoot: studio.filesRoot,
    staticDir,
    // The same port every time for this library, so the page's storage (theme, layout) survives restarts.
    portFile: path.join(studio.layout.libraryDir, 'browser-port.json'),
    host: cli.values.host,
    port: num(cli.values.port, 'port'),
  });
  const openai = cli.values.openai ? await startOpenAiEndpoint(studio, cli) : null;
  if (cli.values.json) process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, token: server.token, ...(openai ? { openaiUrl: openai.url } : {}) })}\n`);
  else {
    process.stdout.write(`Atelier is running in browser mode. Open:\n\n  ${server.url}\n\nPress Ctrl+C to stop.\n`);
    if (openai) process.stdout.write(`\nOpenAI-compatible endpoint for the installed text models: ${openai.url}\n`);
  }
  if (server.rememberedPortTaken !== null) {
    process.stderr.write(`Port ${server.rememberedPortTaken}, which this library used before, is taken: this time Atelier uses ${server.port} (the page's saved theme and layout belong to the other port).\n`);
  }
  const stop = async () => {
    await openai?.close();
    await server.close();
    await studio.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  return new Promise<number>(() => undefined);
}
