import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ContentCredentials } from '../../shared/credentials';
import { StudioError } from '../../shared/errors';
import type { ExportSigning } from './export-signing';
import { ensureSigningIdentity, installationTrustAnchors } from './identity';
import { readCredentials } from './read';
import { loadC2paSdk } from './sdk';

/** The CLI export signs unless --unsigned; where the C2PA library cannot load it says so and exports unsigned. */
export async function exportSigningFor(dataDir: string, version: string, warn: (text: string) => void = (t) => process.stderr.write(t)): Promise<ExportSigning | undefined> {
  try {
    await loadC2paSdk();
  } catch (error) {
    warn(`Exporting without Content Credentials: ${error instanceof Error ? error.message : String(error)}\n`);
    return undefined;
  }
  return { identity: await ensureSigningIdentity(dataDir), generatorVersion: version };
}

/** `atelier library credentials FILE...`: each file's Content Credentials, validated. */

const MIME_BY_EXTENSION: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.wav': 'audio/wav' };

export function describeCredentials(c: ContentCredentials): string {
  if (c.state === 'none') return 'no Content Credentials';
  const lines = [`${c.state}${c.signer ? `, signed by ${c.signer}${c.issuer ? ` (${c.issuer})` : ''}` : ''}`];
  for (const a of c.actions) lines.push(`  action ${a.action}${a.digitalSourceType ? ` (${a.digitalSourceType.split('/').pop()})` : ''}`);
  for (const i of c.ingredients) lines.push(`  ingredient ${i.title} (${i.relationship})`);
  if (c.model) lines.push(`  model ${c.model}${c.licence ? `, licence ${c.licence}` : ''}`);
  for (const p of c.problems) lines.push(`  problem: ${p}`);
  return lines.join('\n');
}

export async function credentialsCommand(files: string[], dataDir: string, opts: { json?: boolean } = {}, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const trustAnchorsPem = await installationTrustAnchors(dataDir);
  const results: { file: string; credentials: ContentCredentials }[] = [];
  for (const file of files) {
    const mime = MIME_BY_EXTENSION[path.extname(file).toLowerCase()];
    if (!mime) throw new StudioError('INVALID_INPUT', `${file}: Content Credentials are read from PNG, JPEG, WebP and WAV files.`);
    const bytes = await fs.readFile(file).catch(() => {
      throw new StudioError('NOT_FOUND', `Cannot read ${file}. Check the path.`);
    });
    results.push({ file, credentials: await readCredentials(bytes, mime, { trustAnchorsPem }) });
  }
  out(opts.json ? `${JSON.stringify(results)}\n` : `${results.map((r) => `${r.file}: ${describeCredentials(r.credentials)}`).join('\n')}\n`);
  // Like a checker: a changed (invalid) file fails the command.
  return results.some((r) => r.credentials.state === 'invalid') ? 1 : 0;
}
