/** Stable error codes shared by every side. A code never changes meaning once shipped. */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'NOT_FOUND',
  'FORBIDDEN',
  'UNKNOWN_CALL',
  'MODEL_NOT_INSTALLED',
  'MODEL_INVALID',
  'ENGINE_CRASHED',
  'ENGINE_UNAVAILABLE',
  'PROVIDER_UNAVAILABLE',
  'CANCELLED',
  'DISK_FULL',
  'DB_NEWER_THAN_APP',
  'DB_CORRUPT',
  'HASH_MISMATCH',
  'NETWORK',
  'INTERNAL',
  /** The runtime could not get the memory a generation needed (GPU or system). */
  'OUT_OF_MEMORY',
  /** Another Atelier process (desktop app, `serve` or a CLI command) owns the library folder. */
  'LIBRARY_IN_USE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface StudioErrorShape {
  code: ErrorCode;
  message: string;
}

/** An error a person can act on: `message` says what happened and what to do next. */
export class StudioError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'StudioError';
    this.code = code;
  }

  toJSON(): StudioErrorShape {
    return { code: this.code, message: this.message };
  }
}

export function isStudioError(value: unknown): value is StudioError {
  return value instanceof StudioError;
}

/** Turns anything thrown into the wire shape, without leaking stack traces to the renderer. */
export function toErrorShape(error: unknown): StudioErrorShape {
  if (error instanceof StudioError) return error.toJSON();
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const code = String((error as { code: unknown }).code);
    if ((ERROR_CODES as readonly string[]).includes(code)) {
      return { code: code as ErrorCode, message: String((error as { message: unknown }).message) };
    }
    if (code === 'ENOSPC') {
      return { code: 'DISK_FULL', message: 'The disk is full. Free some space and try again; nothing was lost.' };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `Something went wrong inside Atelier: ${message}` };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: StudioErrorShape };
