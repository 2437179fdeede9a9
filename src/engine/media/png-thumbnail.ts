import sharp from 'sharp';

/** A `size` px (longest side) webp thumbnail of an image. Never upscales. */
export async function writeThumbnail(src: string, dest: string, size = 256): Promise<{ path: string; width: number; height: number }> {
  const info = await sharp(src).resize(size, size, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toFile(dest);
  return { path: dest, width: info.width, height: info.height };
}
