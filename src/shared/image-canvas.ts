/**
 * Picture sizes, without zod, so the renderer can check them before it asks (the contract's
 * schemas in params.ts use the same numbers).
 */

/** The longest side of a picture Atelier paints, an outpainted canvas included. */
export const MAX_IMAGE_SIDE = 2048;

export interface Margins {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** The canvas an outpaint makes of a width × height picture: the picture with its margins around it. */
export function outpaintedSize(width: number, height: number, m: Margins): { width: number; height: number } {
  return { width: width + m.left + m.right, height: height + m.top + m.bottom };
}
