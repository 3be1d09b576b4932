import type { Rng } from '../../util/rng.js';
import type { RgbImage } from '../image.js';

/** One generated image and its boxes ([x, y, w, h] in pixels, area in pixels). */
export interface GeneratedImage {
  image: RgbImage;
  annotations: { category_id: number; bbox: [number, number, number, number]; area: number; extra?: Record<string, unknown> }[];
}

export interface SceneGenerator {
  categories: { id: number; name: string }[];
  render(rng: Rng, size: number): GeneratedImage;
}
