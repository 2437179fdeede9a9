import path from 'node:path';
import type { CallOutput } from '../../shared/contract';
import type { ModelInspection } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import type { Dtype } from '../models/catalog';
import { modelsPullCommand, modelsRemoveCommand, modelsVerifyCommand } from '../models/cli';
import { findLocalGgufModels } from '../models/local-sources';
import { looksLikeUpscaler, upscaleImportCommand } from '../upscale/cli';
import { need, type Cli } from './context';

export async function modelsCommand(cli: Cli, sub: string | undefined, rest: string[]): Promise<number> {
  if (sub === 'list') {
    const { items } = await cli.call('models.list', {});
    cli.print({ items }, () => (items.length ? items.map((m) => `${m.id.padEnd(30)} ${m.kind.padEnd(9)} ${(m.format ?? '—').padEnd(6)} ${(m.bytes / 1e6).toFixed(1).padStart(8)} MB  ${m.path}`).join('\n') : 'No models installed. Import a folder with: atelier models import DIR'));
    return 0;
  }
  if (sub === 'inspect') {
    const dir = path.resolve(rest[0] ?? need(undefined, 'dir'));
    const studio = await cli.studio();
    const inspection = await studio.engine.request<ModelInspection>({ type: 'inspect', modelDir: dir });
    cli.print(inspection, () => [`${dir}: ${inspection.kind}${inspection.architecture ? ` (${inspection.architecture})` : ''}, ${(inspection.totalBytes / 1e6).toFixed(1)} MB`, ...(inspection.ok ? ['Layout is complete.'] : inspection.problems.map((p) => `  - ${p}`))].join('\n'));
    return inspection.ok ? 0 : 1;
  }
  if (sub === 'import') {
    if (looksLikeUpscaler(path.resolve(rest[0] ?? ''))) return upscaleImportCommand(cli, path.resolve(rest[0]!));
    const model = await cli.call('models.import', { path: path.resolve(rest[0] ?? need(undefined, 'dir')), name: cli.values.name });
    cli.print(model, () => `Imported ${model.id} (${model.kind}) from ${model.path}`);
    return 0;
  }
  if (sub === 'add-remote') {
    // The same call as Settings → Text servers: one address policy and one check that the server offers the model.
    const baseUrl = need(cli.values['base-url'], 'base-url');
    const model = need(cli.values['remote-model'], 'remote-model');
    const registered = await cli.call('models.addRemote', { baseUrl, model, name: cli.values.name, allowHttp: cli.values['allow-http'], apiKeyEnv: cli.values['api-key-env'] });
    cli.print(registered, () => `Registered ${registered.id}: ${model} on ${baseUrl}`);
    return 0;
  }
  if (sub === 'discover') {
    const found = findLocalGgufModels();
    if (!cli.values.import) {
      cli.print({ items: found }, () => (found.length ? found.map((m) => `${m.source.padEnd(8)} ${(m.bytes / 1e9).toFixed(2).padStart(6)} GB  ${m.name}  ${m.path}`).join('\n') : 'No LM Studio or Ollama models found on this machine.'));
      return 0;
    }
    const imported: CallOutput<'models.import'>[] = [];
    for (const model of found) imported.push(await cli.call('models.import', { path: model.path, name: model.name }));
    cli.print({ items: imported }, () => (imported.length ? imported.map((m) => `Registered ${m.id} (in place) from ${m.path}`).join('\n') : 'No LM Studio or Ollama models found on this machine.'));
    return 0;
  }
  if (sub === 'pull') {
    const studio = await cli.studio();
    return modelsPullCommand(studio.models, rest[0] ?? need(undefined, 'repo'), { files: cli.values.files, dtype: cli.values.dtype as Dtype | undefined, quant: cli.values.quant, name: cli.values.name, json: cli.values.json });
  }
  if (sub === 'rm') {
    const studio = await cli.studio();
    return modelsRemoveCommand(studio.models, rest[0] ?? need(undefined, 'id'), { json: cli.values.json });
  }
  if (sub === 'verify') {
    const studio = await cli.studio();
    return modelsVerifyCommand(studio.models, rest[0] ?? need(undefined, 'id'), { json: cli.values.json });
  }
  throw new StudioError('INVALID_INPUT', 'Try: atelier models list|inspect DIR|import DIR|discover [--import]|pull REPO[@REVISION]|rm ID|verify ID');
}
