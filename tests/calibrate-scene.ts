/**
 * Synthetic SEM-like scenes for the calibration tests: a noisy textured micrograph with bright particles, an
 * optional info banner (bottom/top, dark/bright, with banner text), and an optional scale bar (solid or with end
 * ticks, white or black, in the banner or on the image, label drawn with the bundled font). Exact truth returned.
 */
import { measureText, renderText } from '../src/core/calibrate/font';
import type { GreyF32, Raster } from '../src/core/raster';
import { atlasText, drawText } from './helpers/label-atlas';

export function rng(seed: number): () => number {
  let a = seed >>> 0 || 1;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gauss(r: () => number): number {
  const u = Math.max(1e-12, r());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export interface BannerSpec {
  height: number;
  position?: 'bottom' | 'top';
  /** Background level 0..255 and text level. */
  level?: number;
  textLevel?: number;
  texts?: string[];
  /** Separator line at the inner edge of the banner. */
  separator?: boolean;
}

export interface BarSpec {
  lengthPx: number;
  thickness?: number;
  style?: 'solid' | 'ticks';
  where?: 'banner' | 'image';
  /** Bar (and label) colour: white or black. */
  polarity?: 'white' | 'black';
  label: string;
  scale?: number;
  bold?: boolean;
  labelPos?: 'above' | 'below' | 'left' | 'right';
  /** Draw the label in a real font (tests/fixtures/labels) instead of the bundled one. */
  font?: { name: string; size: number };
  /** Left end x; default: right part of the image. */
  x?: number;
  /** Bar top row; default chosen from the banner/image. */
  y?: number;
  /** For bars on the image: draw a contrasting box behind bar and label. */
  box?: boolean;
}

export interface SceneSpec {
  seed: number;
  width: number;
  height: number;
  /** Detector noise std, 0..255 scale. */
  noise?: number;
  /** Noise over the whole image after drawing (JPEG/scan-like), std. */
  globalNoise?: number;
  particles?: number;
  /** Particle radius range in px. */
  radius?: [number, number];
  /** Bright-field TEM look: light ground, dark particles. */
  tem?: boolean;
  banner?: BannerSpec;
  bar?: BarSpec;
}

export interface Scene {
  raster: Raster;
  grey: GreyF32;
  truth: {
    banner?: { y0: number; y1: number };
    bar?: { x0: number; x1: number; y0: number; y1: number; lengthPx: number };
    particles: { x: number; y: number; r: number }[];
  };
}

export function makeScene(spec: SceneSpec): Scene {
  const { width: W, height: H } = spec;
  const r = rng(spec.seed);
  const img = new Float32Array(W * H);
  const noise = spec.noise ?? 8;
  // Micrograph: smooth background gradient + texture + particles + noise.
  const fx = 0.01 + r() * 0.02;
  const fy = 0.01 + r() * 0.02;
  const base = spec.tem ? 185 + r() * 30 : 70 + r() * 30;
  const particles: { x: number; y: number; r: number }[] = [];
  const [rmin, rmax] = spec.radius ?? [5, 14];
  const np = spec.particles ?? Math.round((W * H) / 4000);
  for (let i = 0; i < np; i++) particles.push({ x: r() * W, y: r() * H, r: rmin + r() * (rmax - rmin) });
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      img[y * W + x] = base + 12 * Math.sin(x * fx) * Math.cos(y * fy) + 6 * Math.sin((x + 2 * y) * 0.13);
  for (const p of particles) {
    const x0 = Math.max(0, Math.floor(p.x - p.r - 2));
    const x1 = Math.min(W - 1, Math.ceil(p.x + p.r + 2));
    const y0 = Math.max(0, Math.floor(p.y - p.r - 2));
    const y1 = Math.min(H - 1, Math.ceil(p.y + p.r + 2));
    for (let y = y0; y <= y1; y++)
      for (let x = x0; x <= x1; x++) {
        const d = Math.hypot(x - p.x, y - p.y);
        const a = Math.min(1, Math.max(0, p.r + 0.5 - d));
        const level = spec.tem ? 70 + 30 * (d / p.r) : 170 + 40 * (1 - d / p.r);
        if (a > 0) img[y * W + x] = img[y * W + x]! * (1 - a) + level * a;
      }
  }
  for (let i = 0; i < W * H; i++) img[i] = img[i]! + noise * gauss(r);

  const truth: Scene['truth'] = { particles };
  const set = (x: number, y: number, v: number): void => {
    if (x >= 0 && x < W && y >= 0 && y < H) img[y * W + x] = v;
  };
  const fill = (x0: number, y0: number, x1: number, y1: number, v: number): void => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) set(x, y, v);
  };

  let bannerY0 = H;
  let bannerY1 = H;
  const b = spec.banner;
  if (b) {
    const top = b.position === 'top';
    bannerY0 = top ? 0 : H - b.height;
    bannerY1 = top ? b.height : H;
    const level = b.level ?? 0;
    const textLevel = b.textLevel ?? (level < 128 ? 255 : 0);
    fill(0, bannerY0, W, bannerY1, level);
    if (b.separator) fill(0, top ? bannerY1 - 1 : bannerY0, W, top ? bannerY1 : bannerY0 + 1, textLevel);
    truth.banner = { y0: bannerY0, y1: bannerY1 };
  }

  const bar = spec.bar;
  let barLeft = W;
  if (bar) {
    const scale = bar.scale ?? 1;
    const t = bar.thickness ?? 3;
    const white = (bar.polarity ?? 'white') === 'white';
    const inBanner = (bar.where ?? (b ? 'banner' : 'image')) === 'banner' && b;
    const ink = white ? 255 : 0;
    const real = bar.font ? atlasText(bar.font.name, bar.font.size, bar.label) : null;
    const m = real
      ? { width: real.width, height: real.height, capHeight: real.height }
      : measureText(bar.label, scale, { bold: bar.bold });
    const pos = bar.labelPos ?? 'above';
    const tick = bar.style === 'ticks' ? Math.max(3, 2 * t) : 0;
    const x0 = bar.x ?? Math.round(W * 0.62);
    let y0: number;
    if (bar.y !== undefined) y0 = bar.y;
    else if (inBanner) {
      y0 =
        pos === 'above'
          ? Math.min(bannerY1 - t - tick - 4, bannerY0 + 6 + m.height + 4 + tick)
          : pos === 'below'
            ? bannerY0 + 6 + tick
            : Math.round((bannerY0 + bannerY1 - t) / 2);
    } else y0 = Math.round(H * 0.75);
    const x1 = x0 + bar.lengthPx - 1;
    let lx: number;
    let ly: number;
    if (pos === 'above') {
      lx = Math.round((x0 + x1) / 2 - m.width / 2);
      ly = y0 - tick - 4 - m.height;
    } else if (pos === 'below') {
      lx = Math.round((x0 + x1) / 2 - m.width / 2);
      ly = y0 + t + tick + 4;
    } else if (pos === 'right') {
      lx = x1 + 1 + Math.max(6, Math.round(m.height / 2));
      ly = Math.round(y0 + t - m.height);
    } else {
      lx = x0 - m.width - 6 * scale;
      ly = Math.round(y0 + t / 2 - m.capHeight / 2);
    }
    const target = { width: W, height: H, data: img };
    if (!inBanner && bar.box) {
      const pad = 6;
      fill(
        Math.min(x0, lx) - pad,
        Math.min(y0 - tick, ly) - pad,
        Math.max(x1 + 1, lx + m.width) + pad,
        Math.max(y0 + t + tick, ly + m.height) + pad,
        white ? 0 : 255,
      );
    }
    fill(x0, y0, x1 + 1, y0 + t, ink);
    if (tick > 0) {
      const tw = Math.max(1, Math.round(t / 2));
      fill(x0, y0 - tick, x0 + tw, y0 + t + tick, ink);
      fill(x1 + 1 - tw, y0 - tick, x1 + 1, y0 + t + tick, ink);
    }
    if (real) drawText(target, real, lx, ly, ink);
    else renderText(target, bar.label, lx, ly, scale, ink, { bold: bar.bold });
    if (inBanner) barLeft = Math.min(x0, lx);
    truth.bar = { x0, x1, y0, y1: y0 + t, lengthPx: bar.lengthPx };
  }

  if (b) {
    // Banner fields left of the scale bar and its label, as instruments lay them out.
    const limit = barLeft - 12;
    const textLevel = b.textLevel ?? ((b.level ?? 0) < 128 ? 255 : 0);
    const target = { width: W, height: H, data: img };
    const texts = b.texts ?? ['EHT = 5.00 kV', 'WD = 4.2 mm', 'Mag = 50.00 K X', 'Signal A = InLens'];
    let tx = 8;
    let ty = bannerY0 + 6;
    for (const t of texts) {
      const m = measureText(t, 1);
      if (ty + m.height > bannerY1 - 2) {
        ty = bannerY0 + 6;
        tx += 130;
      }
      if (tx + m.width > Math.min(W * 0.55, limit)) break;
      renderText(target, t, tx, ty, 1, textLevel);
      ty += m.height + 4;
    }
  }

  if (spec.globalNoise) for (let i = 0; i < W * H; i++) img[i] = img[i]! + spec.globalNoise * gauss(r);
  const u8 = new Uint8Array(W * H);
  for (let i = 0; i < W * H; i++) u8[i] = Math.max(0, Math.min(255, Math.round(img[i]!)));
  const grey = new Float32Array(W * H);
  for (let i = 0; i < W * H; i++) grey[i] = u8[i]!;
  return {
    raster: { width: W, height: H, data: u8, bitDepth: 8, channels: 1 },
    grey: { width: W, height: H, data: grey },
    truth,
  };
}

/** Case i of the varied scale-bar set used by calibrate-rate.test.ts. */
export function rateCase(i: number): { spec: SceneSpec; value: number; unit: 'nm' | 'um' } {
  const r = rng(1000 + i);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const unit = r() < 0.5 ? 'nm' : 'um';
  const value =
    unit === 'nm' ? pick([10, 20, 50, 100, 200, 250, 500]) : pick([0.5, 1, 2, 5, 10, 20, 50, 100]);
  const unitText = unit === 'nm' ? 'nm' : pick(['µm', 'um', '\u03BCm']);
  const num = r() < 0.2 ? value.toFixed(2) : String(value);
  const label = `${num}${r() < 0.3 ? '' : ' '}${unitText}`;
  const width = pick([512, 640, 800, 1024]);
  const height = Math.round(width * pick([0.75, 0.7, 0.8]));
  const where = pick(['banner', 'banner', 'image', 'box'] as const);
  const scale = 1 + Math.floor(r() * 3);
  const thickness = 1 + Math.floor(r() * 6);
  const style = r() < 0.5 ? 'solid' : 'ticks';
  const tick = style === 'ticks' ? Math.max(3, 2 * thickness) : 0;
  // Room for the label cell, the gap, the bar and its ticks, as a real banner has.
  const bannerHeight = Math.max(44, scale * 9 + 2 * tick + thickness + 24 + Math.floor(r() * 20));
  const dark = r() < 0.7;
  const spec: SceneSpec = {
    seed: 5000 + i,
    width,
    height,
    noise: 3 + r() * 15,
    particles: Math.round((width * height) / (2500 + r() * 6000)),
    banner:
      where === 'banner'
        ? {
            height: bannerHeight,
            level: dark ? Math.floor(r() * 30) : 225 + Math.floor(r() * 30),
            separator: r() < 0.5,
          }
        : undefined,
    bar: {
      lengthPx: 40 + Math.floor(r() * 260),
      thickness,
      style,
      where: where === 'banner' ? 'banner' : 'image',
      polarity: where === 'banner' ? (dark ? 'white' : 'black') : r() < 0.5 ? 'white' : 'black',
      label,
      scale,
      bold: r() < 0.3,
      labelPos: pick(['above', 'below', 'left'] as const),
      box: where === 'box',
    },
  };
  // Keep the bar inside the image.
  spec.bar!.x = Math.min(Math.round(width * (0.3 + r() * 0.3)), width - spec.bar!.lengthPx - 10);
  return { spec, value, unit };
}
