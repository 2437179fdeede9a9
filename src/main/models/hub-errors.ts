import { StudioError } from '../../shared/errors';
import type { HttpGetResponse } from './http-get';

/**
 * What went wrong talking to the hub, sorted for the download loop: a failure worth another
 * attempt (the connection, not the content), a partial to start again, or a final error.
 */

/** Error codes that mean the machine is offline (or the hub unreachable), not that the hub refused. */
export const OFFLINE_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EPIPE',
  'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

/** A failure worth another attempt (the connection, not the content). */
export class RetryableError extends Error {
  constructor(message: string, readonly offline: boolean) {
    super(message);
  }
}

/** The server answered with bytes that do not belong to our partial: start the file again. */
export class RestartFile extends Error {}

export function errorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error) return String((error as { code: unknown }).code);
  return undefined;
}

export function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (error instanceof Error && error.name === 'AbortError');
}

/** Waits between attempts; a stop while waiting ends the download at once. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new StudioError('CANCELLED', 'The download was stopped.'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new StudioError('CANCELLED', 'The download was stopped.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function notFound(context: { repo: string; what: string }): StudioError {
  return new StudioError('NOT_FOUND', `${context.repo} (${context.what}) was not found on the hub: check the repository name and revision.`);
}

/** Errors the file system raises (as opposed to the network). */
export function isWriteError(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'EIO';
}

/** A JSON answer's text; a dropped connection is worth another attempt like any other. */
export async function readBody(res: HttpGetResponse, limit = 64 * 1024 * 1024): Promise<string> {
  try {
    return await res.text(limit);
  } catch (error) {
    if (errorCode(error) === 'ERR_TOO_LARGE') throw new StudioError('NETWORK', 'The hub sent an unexpectedly large answer; try again later.');
    throw new RetryableError(errorCode(error) ?? (error instanceof Error ? error.message : String(error)), false);
  }
}
