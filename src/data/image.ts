import pngjs from 'pngjs';
import jpeg from 'jpeg-js';

const { PNG } = pngjs;

/** A decoded image: 8-bit RGB, row-major, [height, width, 3]. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export type ImageFormat = 'png' | 'jpeg';

export function sniffFormat(buf: Uint8Array): ImageFormat | null {
  if (buf.length >= 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47) return 'png';
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  return null;
}

/**
 * Width and height from the file header without decoding (PNG IHDR; JPEG SOFn marker).
 * Returns null if the header is not there (truncated or unknown format).
 */
export function imageSize(buf: Uint8Array): { format: ImageFormat; width: number; height: number } | null {
  const fmt = sniffFormat(buf);
  if (fmt === 'png') {
    if (buf.length < 24) return null;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return { format: fmt, width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (fmt === 'jpeg') {
    let i = 2;
    while (i + 9 < buf.length) {
      if (buf[i] !== 0xff) {
        i++;
        continue;
      }
      const marker = buf[i + 1]!;
      if (marker === 0xff) {
        i++;
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        i += 2;
        continue;
      }
      const len = (buf[i + 2]! << 8) | buf[i + 3]!;
      // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        const height = (buf[i + 5]! << 8) | buf[i + 6]!;
        const width = (buf[i + 7]! << 8) | buf[i + 8]!;
        return { format: fmt, width, height };
      }
      i += 2 + len;
    }
    return null;
  }
  return null;
}

/** Decodes a PNG or JPEG file's bytes to RGB (alpha dropped, grey expanded). */
export function decodeImage(buf: Uint8Array): RgbImage {
  const fmt = sniffFormat(buf);
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  if (fmt === 'png') {
    const png = PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
    width = png.width;
    height = png.height;
    rgba = png.data;
  } else if (fmt === 'jpeg') {
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
    width = img.width;
    height = img.height;
    rgba = img.data;
  } else {
    throw new Error('not a PNG or JPEG file');
  }
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    data[p * 3] = rgba[p * 4]!;
    data[p * 3 + 1] = rgba[p * 4 + 1]!;
    data[p * 3 + 2] = rgba[p * 4 + 2]!;
  }
  return { width, height, data };
}

/** Encodes RGB pixels as an 8-bit RGB PNG. */
export function encodePng(img: RgbImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}
