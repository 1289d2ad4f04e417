/**
 * Test micrographs made in Node with the project's synthetic generator (known truth), PNG-encoded.
 * Settings keep the truth unambiguous: particles well apart and large enough that "how many particles"
 * has one answer, with the generator's usual noise and illumination.
 */
import { encode } from 'fast-png';
import type { Raster } from '../src/core/raster';
import { generateSynthetic, type SynthOptions } from '../src/core/synth/index';
import type { FileSpec } from './fixtures';

export interface SynthFile extends FileSpec {
  truth: number;
  pixelSizeNm: number;
}

export interface SynthExtras {
  /**
   * Dark pits of the particles' size pressed into the ground where no particle lies (edges soft, 20 % deeper
   * than the darkest ground): features of the opposite contrast, which the model alone also outlines.
   */
  darkPits?: number;
}

export function synthPng(
  name: string,
  opts: Partial<SynthOptions> & { seed: number },
  extras: SynthExtras = {},
): SynthFile {
  const s = generateSynthetic({
    width: 640,
    height: 480,
    medianDiameter: 26,
    sizeSigma: 0.2,
    arrangement: 'dispersed',
    minSeparation: 1.3,
    banner: false,
    imageScaleBar: false,
    panelLabel: false,
    jpeg: false,
    ...opts,
  });
  const r = s.image;
  if (extras.darkPits) pressDarkPits(s.image, s.instances.data, extras.darkPits, opts.medianDiameter ?? 26);
  const png = encode({
    width: r.width,
    height: r.height,
    data: r.data as Uint8Array,
    channels: r.channels,
    depth: r.bitDepth === 16 ? 16 : 8,
  });
  return {
    name,
    mimeType: 'image/png',
    buffer: Buffer.from(png),
    truth: s.truth.count,
    pixelSizeNm: s.meta.pixelSize.value,
  };
}

/**
 * Pits on a regular grid of candidate spots, taken in raster order where a disc twice their size is clear of
 * particles: deterministic, and never touching the truth.
 */
function pressDarkPits(r: Raster, owner: Int32Array, n: number, diameter: number): void {
  if (r.bitDepth !== 8) throw new Error('dark pits: 8-bit images only');
  const { width: W, height: H, channels: C } = r;
  const px = r.data as Uint8Array;
  let lo = 255;
  for (let i = 0; i < W * H; i++) if (owner[i] === 0) lo = Math.min(lo, px[i * C]);
  const rad = diameter / 2;
  const clear = Math.ceil(rad * 2);
  let placed = 0;
  for (let cy = clear; cy < H - clear && placed < n; cy += clear) {
    for (let cx = clear; cx < W - clear && placed < n; cx += clear) {
      let free = true;
      for (let y = cy - clear; y <= cy + clear && free; y++)
        for (let x = cx - clear; x <= cx + clear; x++)
          if (owner[y * W + x] !== 0) {
            free = false;
            break;
          }
      if (!free) continue;
      placed++;
      for (let y = cy - clear; y <= cy + clear; y++)
        for (let x = cx - clear; x <= cx + clear; x++) {
          owner[y * W + x] = -1; // keeps the next pits clear of this one
          const d = Math.hypot(x - cx, y - cy);
          const w = Math.min(1, Math.max(0, rad + 1 - d)); // 1 inside, ramp over 1 px at the edge
          if (w === 0) continue;
          for (let c = 0; c < Math.min(C, 3); c++) {
            const i = (y * W + x) * C + c;
            px[i] = Math.round(px[i] * (1 - w) + lo * 0.8 * w);
          }
        }
    }
  }
  if (placed < n) throw new Error(`dark pits: room for ${placed} of ${n}`);
}

/**
 * The three micrographs whose particle counts analyse.spec.ts holds to 5 % of the truth. Also written out by
 * models/train/count-images.ts, so that tuning the model's instance rules can refuse rules that fail them.
 */
export const COUNT_IMAGES = (): SynthFile[] => [
  synthPng('sem-a.png', { seed: 101, modality: 'sem' }),
  synthPng('tem-b.png', { seed: 202, modality: 'tem' }),
  synthPng('sem-c.png', { seed: 303, modality: 'sem', medianDiameter: 34 }),
];
