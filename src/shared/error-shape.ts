import { z } from 'zod';

/** A failure as it crosses a boundary: a stable code and a message a person can act on (see errors.ts). */
export const ErrorShape = z.object({ code: z.string(), message: z.string() });
