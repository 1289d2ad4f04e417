/**
 * The "try the demo" micrograph: an SEM-like field from the project's own synthetic generator, with an
 * info banner and a scale bar, so a first-time user sees calibration and banner exclusion at work.
 * Deterministic (fixed seed): everyone gets the same image and the same numbers.
 */
import { encode } from 'fast-png';
import { generateSynthetic, type SynthOptions } from '../core/synth/index';

export const DEMO_NAME = 'saemi-demo-sem.png';

/** A synthetic micrograph as the PNG file a user would add (its own channels and bit depth). */
export function syntheticPng(opts: SynthOptions): Uint8Array {
  const r = generateSynthetic(opts).image;
  return encode({
    width: r.width,
    height: r.height,
    data: r.data as Uint8Array,
    channels: r.channels,
    depth: r.bitDepth === 16 ? 16 : 8,
  });
}

export function demoPng(): Uint8Array {
  return syntheticPng({
    seed: 20261124,
    width: 1024,
    height: 768,
    modality: 'sem',
    bitDepth: 8,
    medianDiameter: 30,
    sizeSigma: 0.25,
    arrangement: 'random',
    banner: true,
    jpeg: false,
    pixelSizeNm: 2.5,
  });
}

/**
 * The idle-time warm-ups' image (warm-up.ts, prepare.worker.ts): small, so a run is short, but textured like a
 * micrograph without metadata, so every stage (calibration's bar search and label crops included) runs.
 */
export function warmUpPng(): Uint8Array {
  return syntheticPng({
    seed: 7,
    width: 512,
    height: 384,
    modality: 'sem',
    bitDepth: 8,
    medianDiameter: 24,
    sizeSigma: 0.25,
    arrangement: 'agglomerated',
    banner: false,
    jpeg: false,
  });
}
