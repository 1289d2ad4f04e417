/**
 * Procedural SEM / bright-field TEM particle images with exact instance masks, for tests, the
 * app's demo image and model training. Deterministic: the same options give the same bytes.
 *
 * Every random choice a caller does not fix is drawn from the seed, per image: size distribution
 * (log-normal, median from ~4 to ~250 px), arrangement, shapes, contrast style, background,
 * artefacts and annotations. The instance mask is the set of pixel centres inside each outline;
 * where particles overlap, the one drawn later (in front) owns the pixels.
 */
import type { LabelImage, Raster } from '../raster';
import {
  addNoise,
  gaussianBlur,
  jpegArtefacts,
  levels,
  percentiles,
  scanLines,
  unevenIllumination,
} from './artefacts';
import { drawBanner, drawImageScaleBar, drawPanelLabel, type ScaleBarTruth, type Surface } from './overlay';
import { Rng } from './prng';
import {
  drawSemParticle,
  drawTemParticle,
  makeCanvas,
  semBackground,
  temBackground,
  type SemGround,
  type SemStyle,
  type TemStyle,
} from './render';
import { layoutScene, type Arrangement, type ScenePlan } from './scene';
import { SHAPE_KINDS, type ShapeKind } from './shapes';

export type { ShapeKind } from './shapes';
export type { Arrangement } from './scene';
export type { ScaleBarTruth } from './overlay';

/** Bumped whenever the same options start giving different images (recorded by `saemi synth`). */
export const SYNTH_VERSION = 4;

export type Modality = 'sem' | 'tem';

export interface SynthOptions {
  seed: number;
  width: number;
  height: number;
  modality?: Modality;
  /** 8 (default) or 16-bit output. */
  bitDepth?: 8 | 16;
  /** Median equivalent diameter in px (drawn per image when absent). */
  medianDiameter?: number;
  /** Log-normal sigma of the diameters. */
  sizeSigma?: number;
  /** Hard limits on nominal diameters (px). Default [3.5, 320]. */
  diameterRange?: [number, number];
  /** Fraction of the field covered by particles. */
  coverage?: number;
  /** Number of particles to place (instead of deriving it from coverage); some may end up hidden. */
  count?: number;
  /** Upper bound on the particle count. Default 3000. */
  maxCount?: number;
  shapes?: ShapeKind[];
  arrangement?: Arrangement;
  /** Centre distance over the sum of radii below which particles are not placed (< 1 = overlap). */
  minSeparation?: number;
  /** Info banner: true/false, or the probability of one (default 0.3 SEM, 0.05 TEM). */
  banner?: boolean | number;
  /** Scale bar in the image (no banner) and panel letters: probability, default 0.25 / 0.15. */
  imageScaleBar?: boolean | number;
  panelLabel?: boolean | number;
  /** Noise, blur, scan lines, illumination, JPEG. Default true. */
  artefacts?: boolean;
  /** JPEG quality, or false; default: 35 % of images at quality 25-92. */
  jpeg?: number | false;
  /** Force particle polarity. 'bright' = particles brighter than ground. Default by modality
   * (SEM bright, TEM dark) with a few inverted images (backscatter SEM, dark-field TEM). */
  polarity?: 'bright' | 'dark';
  /** Physical pixel size in nm (drawn log-uniform 0.1..50 when absent). */
  pixelSizeNm?: number;
  /** Fix parts of the look instead of drawing them (demo image, tests). */
  semGround?: SemGround;
  semGroundLevel?: number;
  semStyle?: Partial<SemStyle>;
  temStyle?: Partial<TemStyle>;
  /** Photon count at full brightness (shot noise) and blur sigma in px. */
  photons?: number;
  blurSigma?: number;
  scanLines?: boolean;
}

export interface ParticleTruth {
  /** Label in `instances`. */
  id: number;
  shape: ShapeKind;
  /** Nominal equivalent-circle diameter of the whole outline (px), before occlusion or clipping. */
  nominalDiameter: number;
  /** Visible area in the mask (px) and its equivalent-circle diameter. */
  area: number;
  diameter: number;
  /** Centre of the outline (px, may lie outside the image). */
  cx: number;
  cy: number;
  /** Has visible pixels on the image border or next to the banner. */
  touchesEdge: boolean;
  /** Part of it is hidden by a particle in front or by an annotation. */
  occluded: boolean;
}

export interface SynthTruth {
  count: number;
  /** Visible equivalent diameters (px) by id - 1. */
  diameters: number[];
  /** Nominal diameters (px) by id - 1. */
  nominalDiameters: number[];
  insideCount: number;
  touchingEdgeCount: number;
  particles: ParticleTruth[];
}

export interface SynthMeta {
  modality: Modality;
  seed: number;
  polarity: 'bright' | 'dark';
  banner?: { y0: number; y1: number };
  scaleBar?: ScaleBarTruth;
  /** Nominal physical pixel size; the scale bar, when there is one, agrees with it exactly. */
  pixelSize: { value: number; unit: 'nm' };
  medianDiameter: number;
  sizeSigma: number;
  arrangement: Arrangement;
  shapes: ShapeKind[];
  jpegQuality: number | null;
  blurSigma: number;
  /** Photon count at full brightness (lower = noisier). */
  photons: number;
}

export interface SynthResult {
  image: Raster;
  instances: LabelImage;
  truth: SynthTruth;
  meta: SynthMeta;
}

function prob(v: boolean | number | undefined, dflt: number, rng: Rng): boolean {
  const r = rng.next();
  if (v === true) return true;
  if (v === false) return false;
  return r < (v ?? dflt);
}

const SEM_KIND_W: Record<ShapeKind, number> = {
  sphere: 0.3,
  ellipse: 0.1,
  blob: 0.22,
  flake: 0.06,
  polygon: 0.15,
  cube: 0.08,
  isocube: 0.05,
  rod: 0.1,
};
const TEM_KIND_W: Record<ShapeKind, number> = {
  sphere: 0.34,
  ellipse: 0.1,
  blob: 0.12,
  flake: 0.1,
  polygon: 0.18,
  cube: 0.1,
  isocube: 0.02,
  rod: 0.14,
};

function planScene(o: SynthOptions, modality: Modality, rng: Rng): ScenePlan {
  const W = o.width;
  const H = o.height;
  const side = Math.min(W, H);
  const range: [number, number] = o.diameterRange ?? [3.5, 320];
  let med = o.medianDiameter;
  if (med === undefined) {
    const r = rng.next();
    med = r < 0.6 ? rng.logRange(5, 40) : r < 0.88 ? rng.logRange(20, 90) : rng.logRange(60, 220);
    med = Math.min(med, side * 0.55);
  }
  med = Math.min(range[1], Math.max(range[0], med));
  const sigma = o.sizeSigma ?? rng.logRange(0.03, 0.45);
  const arrangement =
    o.arrangement ??
    (['dispersed', 'random', 'agglomerated', 'packed'] as const)[rng.weighted([0.3, 0.25, 0.3, 0.15])];
  const minSep =
    o.minSeparation ??
    (arrangement === 'dispersed'
      ? rng.range(1.05, 1.6)
      : arrangement === 'random'
        ? rng.range(0.75, 1.05)
        : arrangement === 'agglomerated'
          ? rng.range(0.62, 0.98)
          : rng.range(0.72, 0.98));
  // fields of big particles with one or two of them cut by the border teach little: cover more
  const minCov = 0.04 + 0.1 * Math.min(1, Math.max(0, (med - 30) / 60));
  const coverage =
    o.coverage ??
    (arrangement === 'packed'
      ? rng.range(0.35, 0.65)
      : rng.logRange(minCov, arrangement === 'dispersed' ? 0.3 : 0.5));
  let kinds: ShapeKind[];
  if (o.shapes && o.shapes.length > 0) kinds = o.shapes;
  else {
    const table = modality === 'sem' ? SEM_KIND_W : TEM_KIND_W;
    const w = SHAPE_KINDS.map((k) => table[k]);
    const nk = rng.weighted([0.6, 0.3, 0.1]) + 1;
    kinds = [];
    for (let i = 0; i < nk; i++) {
      const k = SHAPE_KINDS[rng.weighted(w)];
      if (!kinds.includes(k)) kinds.push(k);
    }
  }
  const kindWeights = kinds.map((_, i) => (i === 0 ? 1 : rng.range(0.1, 0.6)));
  let second: ScenePlan['second'];
  if (o.medianDiameter === undefined && o.sizeSigma === undefined && rng.chance(0.12)) {
    const m2 = Math.min(
      range[1],
      Math.max(range[0], med * (rng.chance(0.5) ? rng.range(0.2, 0.5) : rng.range(2, 3))),
    );
    second = { medianDiameter: m2, sigma: rng.logRange(0.05, 0.3), fraction: rng.range(0.1, 0.5) };
  }
  return {
    width: W,
    height: H,
    medianDiameter: med,
    sigma,
    second,
    diameterRange: [range[0], Math.min(range[1], Math.max(range[0], Math.max(W, H) * 1.2))],
    coverage,
    count: o.count,
    maxCount: o.maxCount ?? 3000,
    kinds,
    kindWeights,
    arrangement,
    minSeparation: minSep,
    alignedAngle: rng.chance(0.2) ? rng.range(0, Math.PI) : null,
    aspect: rng.chance(0.4) ? rng.range(0.5, 0.9) : null,
    rodAspect: rng.chance(0.5) ? (rng.chance(0.2) ? rng.range(6, 14) : rng.range(2, 6)) : null,
  };
}

function semStyle(kinds: ShapeKind[], rng: Rng): { ground: SemGround; level: number; style: SemStyle } {
  const level = rng.logRange(0.04, 0.45);
  const lowContrast = rng.chance(0.15);
  const faceted = kinds.some((k) => k === 'polygon' || k === 'cube' || k === 'isocube');
  const la = rng.range(0, Math.PI * 2);
  const style: SemStyle = {
    particleLevel: Math.min(0.95, level + (lowContrast ? rng.range(0.06, 0.15) : rng.range(0.15, 0.55))),
    levelJitter: rng.range(0, 0.1),
    edgeAmp: rng.chance(0.08) ? -rng.range(0.05, 0.2) : rng.range(0, 0.35),
    rimWidth: rng.range(0.6, 2.5),
    rimRel: rng.range(0, 0.05),
    tiltAmp: rng.range(0, 0.25),
    dirAmp: rng.chance(0.6) ? rng.range(0, 0.18) : 0,
    lightX: Math.cos(la),
    lightY: Math.sin(la),
    facetSpread: faceted ? rng.range(0.05, 0.3) : rng.range(0, 0.06),
    textureAmp: rng.range(0, 0.15),
    shadowAmp: rng.chance(0.5) ? rng.range(0.05, 0.35) : 0,
    shadowWidth: rng.range(1, 6),
    glowAmp: rng.chance(0.2) ? rng.range(0.05, 0.25) : 0,
  };
  const ground = (['smooth', 'fractal', 'granular', 'cracked', 'porous'] as const)[
    rng.weighted([0.2, 0.3, 0.2, 0.12, 0.18])
  ];
  return { ground, level, style };
}

function temStyle(rng: Rng): TemStyle {
  const background = rng.range(0.45, 0.9);
  const crystalline = rng.chance(0.35);
  return {
    background,
    transmission: rng.logRange(0.06, 0.85),
    transJitter: rng.range(0, 0.15),
    // diffraction contrast: some grains much darker or lighter than their neighbours
    darknessSpread: rng.chance(0.3) ? rng.range(0.2, 0.7) : 0,
    grainScale: rng.chance(0.15) ? rng.range(1.5, 3) : rng.range(0.6, 1.8),
    profile: rng.logRange(0.06, 1),
    haloAmp: rng.chance(0.5) ? rng.range(0.02, 0.15) : 0,
    haloWidth: rng.range(1.5, 10),
    fresnelAmp: rng.chance(0.6) ? rng.range(0.03, 0.2) : 0,
    fresnelWidth: rng.range(0.6, 1.5),
    textureAmp: rng.range(0, 0.3),
    crystalP: crystalline ? rng.range(0.3, 1) : 0,
    hollowP: rng.chance(0.08) ? 0.8 : 0,
    coreShellP: rng.chance(0.07) ? rng.range(0.6, 1) : 0,
    wedge: rng.chance(0.3) ? rng.range(0.1, 0.6) : 0,
  };
}

/** Mean level of the particle pixels and of the ground pixels of `img` (labels as drawn). */
function drawnLevels(img: Float32Array, labels: Int32Array): { particles: number; ground: number } {
  let ps = 0;
  let pn = 0;
  let gs = 0;
  let gn = 0;
  for (let i = 0; i < img.length; i++) {
    if (labels[i] !== 0) {
      ps += img[i];
      pn++;
    } else {
      gs += img[i];
      gn++;
    }
  }
  return { particles: pn ? ps / pn : 1, ground: gn ? gs / gn : 0 };
}

/** Generates one synthetic micrograph with its exact instance mask and truth. */
export function generateSynthetic(opts: SynthOptions): SynthResult {
  const W = Math.round(opts.width);
  const H = Math.round(opts.height);
  if (!(W >= 16 && H >= 16 && W <= 16384 && H <= 16384)) {
    throw new Error(`synth: image size ${opts.width}x${opts.height} out of range (16..16384 px a side)`);
  }
  const rng = new Rng(opts.seed);
  const sceneRng = rng.fork();
  const renderRng = rng.fork();
  const artRng = rng.fork();
  const annotRng = rng.fork();
  const modality: Modality = opts.modality ?? (rng.chance(0.55) ? 'sem' : 'tem');
  const plan = planScene(opts, modality, rng);
  const shapes = layoutScene(plan, sceneRng);
  const canvas = makeCanvas(W, H, renderRng);
  // in-image area of each outline as drawn, before later particles or annotations covered it
  const drawnArea = new Float64Array(shapes.length + 1);

  // nominal particle/ground contrast: the ground's texture scales with it
  let contrast: number;
  if (modality === 'sem') {
    const drawn = semStyle(plan.kinds, rng);
    const ground = opts.semGround ?? drawn.ground;
    const level = opts.semGroundLevel ?? drawn.level;
    const style: SemStyle = { ...drawn.style, ...opts.semStyle };
    contrast = style.particleLevel - level;
    semBackground(canvas, level, ground, plan.medianDiameter, contrast, renderRng);
    for (let i = 0; i < shapes.length; i++)
      drawnArea[i + 1] = drawSemParticle(canvas, shapes[i], i + 1, style, renderRng);
  } else {
    const style: TemStyle = { ...temStyle(rng), ...opts.temStyle };
    contrast = style.background * (1 - Math.pow(style.transmission, 0.7));
    temBackground(
      canvas,
      style.background,
      contrast * (style.grainScale > 1.5 ? 0.8 : 0.6),
      style.grainScale,
      renderRng,
    );
    for (let i = 0; i < shapes.length; i++)
      drawnArea[i + 1] = drawTemParticle(canvas, shapes[i], i + 1, style, renderRng);
  }
  const img = canvas.img;
  const artefacts = opts.artefacts ?? true;
  let blurSigma = 0;
  let photons = Infinity;
  if (artefacts) {
    unevenIllumination(img, W, H, rng.range(0, 0.25), artRng);
    const bq = rng.next();
    const blurDrawn =
      bq < 0.4
        ? rng.range(0, 0.5)
        : bq < 0.85
          ? rng.range(0.5, 1.3)
          : bq < 0.96
            ? rng.range(1.3, 2.5)
            : rng.range(2.5, 4);
    // per-pixel contrast-to-noise ratio: small particles need more to stay recognisable. It is
    // measured on what the noise meets: the particles and ground as drawn, lit and blurred (the
    // style's nominal contrast overstates small particles, whose shading, rims and blur pull their
    // mean towards the ground's), with shot noise from both levels (the usual RMS of the two).
    // Version 3 took the nominal contrast and the ground's noise: one hold-out image of 2036 packed
    // 5 px cubes came out with its particles lost in the noise.
    const cnr = rng.logRange(1.2, 10) * (plan.medianDiameter < 12 ? 1.6 : 1);
    const photonsDrawn = rng.logRange(5, 2000);
    blurSigma = opts.blurSigma ?? blurDrawn;
    const readDrawn = rng.range(0, 0.03);
    const blurFirst = rng.chance(0.6);
    const seen = img.slice();
    gaussianBlur(seen, W, H, blurFirst ? blurSigma : blurSigma * 0.7);
    const lv = drawnLevels(seen, canvas.labels);
    const c = Math.max(Math.abs(lv.particles - lv.ground), 0.01);
    const shot = Math.max(lv.particles, 0) + Math.max(lv.ground, 0);
    photons = Math.max(photonsDrawn, (cnr * cnr * shot) / (2 * c * c));
    if (opts.photons !== undefined) photons = opts.photons;
    const read = Math.min(readDrawn, c / (2 * cnr));
    if (blurFirst) {
      gaussianBlur(img, W, H, blurSigma);
      addNoise(img, photons, read, artRng);
    } else {
      addNoise(img, photons, read, artRng);
      gaussianBlur(img, W, H, blurSigma * 0.7);
    }
    const lines = rng.chance(0.45);
    if (modality === 'sem' && (opts.scanLines ?? lines)) {
      scanLines(img, W, H, rng.logRange(0.003, 0.04), rng.chance(0.3) ? rng.range(0, 0.01) : 0, artRng);
    }
  } else {
    rng.next();
  }
  // contrast: stretch robust range to a random output window, gamma
  // some images clip the ground to black or white, as contrast-stretched journal figures do
  const clip = artefacts ? rng.next() : 1;
  const lowPct = clip < 0.06 && modality === 'sem' ? rng.range(2, 15) : rng.range(0.05, 2);
  const highPct = clip > 0.9 && modality === 'tem' ? rng.range(85, 98) : rng.range(98, 99.95);
  const [plo, phi] = percentiles(img, lowPct, highPct);
  const outLo = artefacts ? rng.range(0, 0.15) : 0;
  const outHi = artefacts ? rng.range(0.8, 1) : 1;
  const span = (phi - plo) / Math.max(1e-6, outHi - outLo);
  levels(img, plo - outLo * span, plo - outLo * span + span, artefacts ? rng.range(0.75, 1.35) : 1);

  let polarity: 'bright' | 'dark' = modality === 'sem' ? 'bright' : 'dark';
  const invert = opts.polarity ? opts.polarity !== polarity : rng.chance(modality === 'sem' ? 0.06 : 0.04);
  if (invert) {
    for (let i = 0; i < img.length; i++) img[i] = 1 - img[i];
    polarity = polarity === 'bright' ? 'dark' : 'bright';
  }

  // annotations
  const pixelSizeNm = opts.pixelSizeNm ?? rng.logRange(0.1, 50);
  const surface: Surface = { width: W, height: H, img, cover: new Uint8Array(W * H) };
  let banner: { y0: number; y1: number } | undefined;
  let scaleBar: ScaleBarTruth | undefined;
  const wantBanner = prob(opts.banner, modality === 'sem' ? 0.3 : 0.05, rng);
  const wantBar = prob(opts.imageScaleBar, 0.35, rng);
  const wantPanel = prob(opts.panelLabel, 0.2, rng);
  if (wantBanner && H >= 64) {
    const b = drawBanner(surface, pixelSizeNm, annotRng);
    banner = { y0: b.y0, y1: b.y1 };
    scaleBar = b.scaleBar;
  } else if (wantBar && H >= 48 && W >= 64) {
    scaleBar = drawImageScaleBar(surface, pixelSizeNm, annotRng);
  }
  if (wantPanel && H >= 48) drawPanelLabel(surface, annotRng);
  const pixelSize = scaleBar
    ? (scaleBar.value * (scaleBar.unit === 'um' ? 1000 : 1)) / scaleBar.lengthPx
    : pixelSizeNm;

  // quantise (and JPEG round trip for 8-bit)
  const bitDepth = opts.bitDepth ?? 8;
  let jpegQuality: number | null = null;
  const jpegDraw = rng.next();
  const jq = rng.range(25, 92);
  if (opts.jpeg !== undefined) jpegQuality = opts.jpeg === false ? null : opts.jpeg;
  else if (artefacts && jpegDraw < 0.35) jpegQuality = Math.round(jq);
  let image: Raster;
  if (bitDepth === 16) {
    const maxV = rng.chance(0.5) ? 65535 : 4095;
    const data = new Uint16Array(W * H);
    for (let i = 0; i < data.length; i++) data[i] = Math.round(Math.min(1, Math.max(0, img[i])) * maxV);
    image = { width: W, height: H, data, bitDepth: 16, channels: 1 };
  } else {
    for (let i = 0; i < img.length; i++) img[i] = Math.round(Math.min(1, Math.max(0, img[i])) * 255);
    if (jpegQuality !== null) jpegArtefacts(img, W, H, jpegQuality);
    const data = new Uint8Array(W * H);
    for (let i = 0; i < data.length; i++) data[i] = img[i];
    image = { width: W, height: H, data, bitDepth: 8, channels: 1 };
  }

  // instance mask: clear annotations, drop ids with no visible pixel, renumber 1..n in drawing order
  const lab = canvas.labels;
  const cover = surface.cover;
  const by0 = banner ? banner.y0 : H;
  for (let i = 0; i < lab.length; i++) if (cover[i] || i >= by0 * W) lab[i] = 0;
  const area = new Float64Array(shapes.length + 1);
  const edge = new Uint8Array(shapes.length + 1);
  for (let y = 0; y < H; y++) {
    const onEdgeRow = y === 0 || y === H - 1 || y === by0 - 1;
    for (let x = 0; x < W; x++) {
      const id = lab[y * W + x];
      if (id === 0) continue;
      area[id]++;
      if (onEdgeRow || x === 0 || x === W - 1) edge[id] = 1;
    }
  }
  const remap = new Int32Array(shapes.length + 1);
  const particles: ParticleTruth[] = [];
  for (let i = 1; i <= shapes.length; i++) {
    if (area[i] === 0) continue;
    remap[i] = particles.length + 1;
    const s = shapes[i - 1];
    particles.push({
      id: particles.length + 1,
      shape: s.kind,
      nominalDiameter: s.ecd,
      area: area[i],
      diameter: 2 * Math.sqrt(area[i] / Math.PI),
      cx: s.cx,
      cy: s.cy,
      touchesEdge: edge[i] === 1,
      occluded: area[i] < drawnArea[i],
    });
  }
  for (let i = 0; i < lab.length; i++) lab[i] = remap[lab[i]];
  const instances: LabelImage = { width: W, height: H, data: lab, count: particles.length };
  let inside = 0;
  for (const p of particles) if (!p.touchesEdge) inside++;
  const truth: SynthTruth = {
    count: particles.length,
    diameters: particles.map((p) => p.diameter),
    nominalDiameters: particles.map((p) => p.nominalDiameter),
    insideCount: inside,
    touchingEdgeCount: particles.length - inside,
    particles,
  };
  const meta: SynthMeta = {
    modality,
    seed: opts.seed,
    polarity,
    pixelSize: { value: pixelSize, unit: 'nm' },
    medianDiameter: plan.medianDiameter,
    sizeSigma: plan.sigma,
    arrangement: plan.arrangement,
    shapes: plan.kinds,
    jpegQuality,
    blurSigma,
    photons,
  };
  if (banner) meta.banner = banner;
  if (scaleBar) meta.scaleBar = scaleBar;
  return { image, instances, truth, meta };
}

/** Options of the app's "try the demo" image: a 1024x768 SEM micrograph of about 100 particles with an
 * info banner whose scale bar gives the pixel size (2.5 nm/px). */
export const DEMO_OPTIONS: SynthOptions = {
  seed: 3,
  width: 1024,
  height: 768,
  modality: 'sem',
  medianDiameter: 34,
  sizeSigma: 0.22,
  count: 110,
  shapes: ['sphere', 'blob'],
  arrangement: 'agglomerated',
  minSeparation: 0.9,
  banner: true,
  imageScaleBar: false,
  panelLabel: false,
  jpeg: false,
  polarity: 'bright',
  pixelSizeNm: 2.5,
  semGround: 'fractal',
  semGroundLevel: 0.2,
  semStyle: {
    particleLevel: 0.55,
    levelJitter: 0.04,
    edgeAmp: 0.22,
    rimWidth: 1.4,
    rimRel: 0.02,
    tiltAmp: 0.12,
    dirAmp: 0.1,
    lightX: -0.6,
    lightY: -0.8,
    textureAmp: 0.05,
    shadowAmp: 0.18,
    shadowWidth: 3,
    glowAmp: 0,
  },
  photons: 120,
  blurSigma: 0.7,
  scanLines: false,
};

/** The demo image with its truth, identical on every call and platform. */
export function generateDemoImage(): SynthResult {
  return generateSynthetic(DEMO_OPTIONS);
}
