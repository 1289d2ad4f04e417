/**
 * Test micrographs made in Node with the project's synthetic generator (known truth), PNG-encoded.
 * Settings keep the truth unambiguous: particles well apart and large enough that "how many particles"
 * has one answer, with the generator's usual noise and illumination.
 */
import { encode } from 'fast-png';
import { generateSynthetic, type SynthOptions } from '../src/core/synth/index';
import type { FileSpec } from './fixtures';

export interface SynthFile extends FileSpec {
  truth: number;
  pixelSizeNm: number;
}

export function synthPng(name: string, opts: Partial<SynthOptions> & { seed: number }): SynthFile {
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
 * The three micrographs whose particle counts analyse.spec.ts holds to 5 % of the truth. Also written out by
 * models/train/count-images.ts, so that tuning the model's instance rules can refuse rules that fail them.
 */
export const COUNT_IMAGES = (): SynthFile[] => [
  synthPng('sem-a.png', { seed: 101, modality: 'sem' }),
  synthPng('tem-b.png', { seed: 202, modality: 'tem' }),
  synthPng('sem-c.png', { seed: 303, modality: 'sem', medianDiameter: 34 }),
];
