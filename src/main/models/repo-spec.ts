import { StudioError } from '../../shared/errors';

/** How a pull names what to download (`owner/name@revision`) and the id a download installs under. */

const REPO = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

export function parseRepoAtRevision(spec: string): { repo: string; revision: string } {
  const at = spec.lastIndexOf('@');
  const repo = at > 0 ? spec.slice(0, at) : spec;
  const revision = at > 0 ? spec.slice(at + 1) : 'main';
  if (!REPO.test(repo) || repo.split('/').some((p) => p === '.' || p === '..')) {
    throw new StudioError('INVALID_INPUT', `"${repo}" is not a Hugging Face repository name; write it as owner/name (optionally @revision).`);
  }
  if (!revision || revision.includes('..') || !/^[\w./-]+$/.test(revision)) throw new StudioError('INVALID_INPUT', `"${revision}" is not a valid revision.`);
  return { repo, revision };
}

/** What `downloadId` makes: no separator of any platform, so it is always one folder name. */
const DOWNLOAD_ID = /^[A-Za-z0-9][\w.-]*--[A-Za-z0-9][\w.-]*@[\w.%-]+$/;

/** `<owner>--<name>@<revision>`: the folder and the installed model's id. */
export function downloadId(repo: string, revision: string): string {
  const id = `${repo.replace('/', '--')}@${revision.replace(/\//g, '%2F')}`;
  if (id.length > 100) throw new StudioError('INVALID_INPUT', `${repo}@${revision} is too long a name to install; pin a shorter revision.`);
  return id;
}

/** Whether `id` has the form downloadId makes (ids also come from clients: pause, resume, cancel). */
export function isDownloadId(id: string): boolean {
  return DOWNLOAD_ID.test(id);
}
