/**
 * Draws backgrounds and particles into a float image in [0, 1] (roughly) and the exact instance
 * mask. SEM: secondary-electron look (bright bodies, edge brightening where the surface is steep,
 * detector-side shading, facets, contact shadows), alpha-composited so the front particle hides
 * the one behind. Bright-field TEM: mass-thickness absorption multiplied into the film, so
 * overlaps get darker, plus halos, Fresnel fringes, twin bands and lattice fringes.
 */
import { addFractalNoise, addValueNoise, addWhiteNoise, gaussianBlur } from './fields';
import type { Rng } from './prng';
import { evalShape, scratch, type Shape } from './shapes';

export interface Canvas {
  width: number;
  height: number;
  img: Float32Array;
  labels: Int32Array;
  /** Shared texture field (zero mean, ~unit amplitude) sampled inside particles. */
  texture: Float32Array;
}

export function makeCanvas(width: number, height: number, rng: Rng): Canvas {
  const texture = new Float32Array(width * height);
  addFractalNoise(texture, width, height, rng.range(4, 24), 0.6, 0.55, rng, 1.5);
  return {
    width,
    height,
    img: new Float32Array(width * height),
    labels: new Int32Array(width * height),
    texture,
  };
}

/** Cellular (Voronoi-edge) pattern for cracked or grainy substrates: 0 on cell borders, 1 inside. */
function addCells(c: Canvas, cell: number, amp: number, lineW: number, rng: Rng): void {
  const { width: W, height: H } = c;
  const gw = Math.ceil(W / cell) + 2;
  const gh = Math.ceil(H / cell) + 2;
  const px = new Float32Array(gw * gh);
  const py = new Float32Array(gw * gh);
  const tone = new Float32Array(gw * gh);
  for (let j = 0; j < gh; j++) {
    for (let i = 0; i < gw; i++) {
      px[j * gw + i] = (i - 1 + rng.next()) * cell;
      py[j * gw + i] = (j - 1 + rng.next()) * cell;
      tone[j * gw + i] = rng.range(-1, 1);
    }
  }
  for (let y = 0; y < H; y++) {
    const cj = Math.floor(y / cell) + 1;
    for (let x = 0; x < W; x++) {
      const ci = Math.floor(x / cell) + 1;
      let d1 = 1e18;
      let d2 = 1e18;
      let t1 = 0;
      for (let j = cj - 1; j <= cj + 1; j++) {
        for (let i = ci - 1; i <= ci + 1; i++) {
          const k = j * gw + i;
          const dx = px[k] - x;
          const dy = py[k] - y;
          const dd = dx * dx + dy * dy;
          if (dd < d1) {
            d2 = d1;
            d1 = dd;
            t1 = tone[k];
          } else if (dd < d2) d2 = dd;
        }
      }
      const edge = (Math.sqrt(d2) - Math.sqrt(d1)) * 0.5;
      const line = edge < lineW ? 1 - edge / lineW : 0;
      c.img[y * W + x] += amp * (0.3 * t1 - line);
    }
  }
}

/** Granular substrate: many small soft bumps, dimmer than the particles. */
function addGrains(c: Canvas, size: number, density: number, amp: number, rng: Rng): void {
  const { width: W, height: H } = c;
  const n = Math.round((density * W * H) / (size * size));
  const r = Math.max(1, size);
  for (let k = 0; k < n; k++) {
    const cx = rng.range(0, W);
    const cy = rng.range(0, H);
    const rr = r * rng.range(0.5, 1.3);
    const a = amp * rng.range(0.3, 1);
    const x0 = Math.max(0, Math.floor(cx - 2 * rr));
    const x1 = Math.min(W - 1, Math.ceil(cx + 2 * rr));
    const y0 = Math.max(0, Math.floor(cy - 2 * rr));
    const y1 = Math.min(H - 1, Math.ceil(cy + 2 * rr));
    const inv = 1 / (rr * rr);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const q = (dx * dx + dy * dy) * inv;
        if (q < 4) c.img[y * W + x] += a * Math.exp(-q * 1.5);
      }
    }
  }
}

export type SemGround = 'smooth' | 'fractal' | 'granular' | 'cracked' | 'porous';

/**
 * SEM substrate. Grains stay well below the particle size and contrast (`particleSize`, `contrast`):
 * texture that looks like the particles but is not labelled would teach a model to ignore particles.
 */
export function semBackground(
  c: Canvas,
  level: number,
  kind: SemGround,
  particleSize: number,
  contrast: number,
  rng: Rng,
): void {
  const { width: W, height: H, img } = c;
  img.fill(level);
  addFractalNoise(img, W, H, rng.range(40, 200), rng.range(0.01, 0.06), 0.5, rng, 8);
  switch (kind) {
    case 'smooth':
      break;
    case 'fractal':
      addFractalNoise(
        img,
        W,
        H,
        rng.range(8, 40),
        Math.min(rng.range(0.03, 0.1), 0.5 * contrast),
        rng.range(0.5, 0.8),
        rng,
        1,
      );
      break;
    case 'granular':
      addGrains(
        c,
        Math.min(rng.range(1.5, 6), Math.max(0.8, 0.15 * particleSize)),
        rng.range(0.4, 1.5),
        Math.min(rng.range(0.04, 0.18), 0.4 * contrast),
        rng,
      );
      break;
    case 'cracked':
      addCells(c, rng.range(15, 60), rng.range(0.03, 0.12), rng.range(0.6, 1.6), rng);
      break;
    case 'porous': {
      const t = new Float32Array(W * H);
      addFractalNoise(t, W, H, rng.range(6, 20), 1, 0.5, rng, 2);
      const amp = rng.range(0.05, 0.15);
      for (let i = 0; i < img.length; i++) img[i] -= t[i] < -0.25 ? amp : 0;
      break;
    }
  }
}

/** Carbon film: blurred white-noise grain (amplitude capped at `grainMax`) on a smooth level. */
export function temBackground(
  c: Canvas,
  level: number,
  grainMax: number,
  grainScale: number,
  rng: Rng,
): void {
  const { width: W, height: H, img } = c;
  const grain = new Float32Array(W * H);
  addWhiteNoise(grain, 1, rng);
  const gs = grainScale;
  gaussianBlur(grain, W, H, gs);
  // re-normalise: blurring white noise shrinks its amplitude by ~ 1 / (2 sqrt(pi) sigma)
  const amp = Math.min(rng.range(0.015, 0.09) * level, grainMax) * 2 * Math.sqrt(Math.PI) * Math.max(gs, 0.5);
  img.fill(level);
  for (let i = 0; i < img.length; i++) img[i] += amp * grain[i];
  addFractalNoise(img, W, H, rng.range(60, 300), rng.range(0.01, 0.05), 0.5, rng, 16);
  if (rng.chance(0.15)) {
    // edge of a hole or a thicker film patch: a soft step across the field
    const t = new Float32Array(W * H);
    addValueNoise(t, W, H, rng.range(150, 400), 1, rng);
    const step = rng.range(-0.25, 0.15) * level;
    for (let i = 0; i < img.length; i++) img[i] += step / (1 + Math.exp(-t[i] * 12));
  }
}

export interface SemStyle {
  particleLevel: number;
  levelJitter: number;
  edgeAmp: number;
  rimWidth: number;
  rimRel: number;
  tiltAmp: number;
  dirAmp: number;
  lightX: number;
  lightY: number;
  facetSpread: number;
  textureAmp: number;
  shadowAmp: number;
  shadowWidth: number;
  glowAmp: number;
}

/** Returns the number of in-image pixels whose centre lies inside the outline. */
export function drawSemParticle(c: Canvas, s: Shape, id: number, st: SemStyle, rng: Rng): number {
  const { width: W, height: H, img, labels, texture } = c;
  const margin = Math.max(st.shadowWidth * 3, 2);
  const x0 = Math.max(0, Math.floor(s.cx - s.bound - margin));
  const x1 = Math.min(W - 1, Math.ceil(s.cx + s.bound + margin));
  const y0 = Math.max(0, Math.floor(s.cy - s.bound - margin));
  const y1 = Math.min(H - 1, Math.ceil(s.cy + s.bound + margin));
  if (x0 > x1 || y0 > y1) return 0;
  let count = 0;
  const level = st.particleLevel + st.levelJitter * rng.range(-1, 1);
  const facets = new Float32Array(8);
  for (let i = 0; i < 8; i++) facets[i] = 1 + st.facetSpread * rng.range(-1, 1);
  const rimW = st.rimWidth + st.rimRel * s.ecd;
  const invB = 1 / Math.max(1, s.bound);
  const small = s.ecd < 8;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = evalShape(s, x + 0.5, y + 0.5);
      const i = y * W + x;
      if (d >= 0.5) {
        if (d < margin) {
          const f = st.shadowAmp * Math.exp(-d / st.shadowWidth) - st.glowAmp * Math.exp(-d / 1.5);
          img[i] *= 1 - f;
        }
        continue;
      }
      const h = scratch.h;
      const dIn = d < 0 ? -d : 0;
      const tilt = small ? 0.5 : Math.min(1 / Math.max(h, 0.2) - 1, 4) * 0.25;
      const rim = Math.exp(-dIn / rimW);
      const dir = ((x + 0.5 - s.cx) * st.lightX + (y + 0.5 - s.cy) * st.lightY) * invB * (1.2 - h);
      const v =
        level * facets[scratch.facet & 7] * (1 + st.textureAmp * texture[i]) +
        st.edgeAmp * rim +
        st.tiltAmp * tilt +
        st.dirAmp * dir;
      const a = d <= -0.5 ? 1 : 0.5 - d;
      img[i] = img[i] * (1 - a) + v * a;
      if (d < 0) {
        labels[i] = id;
        count++;
      }
    }
  }
  return count;
}

export interface TemStyle {
  /** Transmission at the thickest point, mean over particles. */
  transmission: number;
  transJitter: number;
  /** Log-spread of per-particle absorption (0 = all alike). */
  darknessSpread: number;
  /** Blur sigma of the carbon-film grain (large = HRTEM-like mottle). */
  grainScale: number;
  /** Thickness profile exponent: small = flat (crystalline metal), 1 = sphere-like. */
  profile: number;
  haloAmp: number;
  haloWidth: number;
  fresnelAmp: number;
  fresnelWidth: number;
  textureAmp: number;
  /** Probability that a particle shows twin bands / lattice fringes. */
  crystalP: number;
  hollowP: number;
  /** Probability of a light shell around a dark core (core-shell syntheses). */
  coreShellP: number;
  /** Thickness gradient across particles (wedge-shaped flakes, tilted plates). */
  wedge: number;
  background: number;
}

/** Returns the number of in-image pixels whose centre lies inside the outline. */
export function drawTemParticle(c: Canvas, s: Shape, id: number, st: TemStyle, rng: Rng): number {
  const { width: W, height: H, img, labels, texture } = c;
  const margin = Math.max(st.haloWidth * 4, st.fresnelWidth * 4, 2);
  const x0 = Math.max(0, Math.floor(s.cx - s.bound - margin));
  const x1 = Math.min(W - 1, Math.ceil(s.cx + s.bound + margin));
  const y0 = Math.max(0, Math.floor(s.cy - s.bound - margin));
  const y1 = Math.min(H - 1, Math.ceil(s.cy + s.bound + margin));
  if (x0 > x1 || y0 > y1) return 0;
  let count = 0;
  const t0 = Math.min(0.95, Math.max(0.03, st.transmission + st.transJitter * rng.range(-1, 1)));
  const lnT = Math.log(t0) * Math.exp(st.darknessSpread * rng.range(-1, 1));
  const crystal = rng.chance(st.crystalP);
  const hollow = rng.chance(st.hollowP);
  const bandAng = rng.range(0, Math.PI);
  const bc = Math.cos(bandAng);
  const bs = Math.sin(bandAng);
  // twin/stacking-fault bands: a few parallel planes at irregular spacing, each domain its own contrast
  const bandAmp = crystal ? rng.range(0.1, 0.45) : 0;
  const nBands = 1 + rng.int(4);
  const bandAt = new Float32Array(nBands);
  for (let k = 0; k < nBands; k++) bandAt[k] = rng.range(-0.45, 0.45) * s.ecd;
  bandAt.sort();
  const bandLevel = new Float32Array(nBands + 1);
  for (let k = 0; k <= nBands; k++)
    bandLevel[k] = 1 + bandAmp * rng.range(-0.6, 0.6) * (k % 2 === 0 ? 1 : -1);
  const fringeP = rng.range(2.2, 5);
  const fringeAmp = crystal && rng.chance(s.ecd > 60 ? 0.7 : 0.3) ? rng.range(0.05, 0.2) : 0;
  const fringeAng = rng.range(0, Math.PI);
  const fc = Math.cos(fringeAng);
  const fs = Math.sin(fringeAng);
  const shell = rng.range(0.5, 0.8);
  const coreShell = !hollow && rng.chance(st.coreShellP);
  const coreR = s.ecd * rng.range(0.06, 0.3);
  const coreX = s.cx + rng.range(-0.15, 0.15) * s.ecd;
  const coreY = s.cy + rng.range(-0.15, 0.15) * s.ecd;
  const shellK = coreShell ? rng.range(0.15, 0.45) : 1;
  const coreLn = Math.log(rng.range(0.05, 0.3));
  const wedgeA = rng.range(0, Math.PI * 2);
  const wx = (Math.cos(wedgeA) * st.wedge * rng.next()) / Math.max(1, s.bound);
  const wy = (Math.sin(wedgeA) * st.wedge * rng.next()) / Math.max(1, s.bound);
  const bg = st.background;
  const fw = st.fresnelWidth;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = evalShape(s, x + 0.5, y + 0.5);
      const i = y * W + x;
      // halo and Fresnel fringe live on both sides of the edge
      let add = 0;
      if (d > -3 * fw && d < margin) {
        add +=
          st.fresnelAmp *
          bg *
          (Math.exp(-(((d - 0.7) / fw) ** 2)) - 0.5 * Math.exp(-(((d + 1.2) / fw) ** 2)));
        if (d > 0) add += st.haloAmp * bg * Math.exp(-d / st.haloWidth);
      }
      if (d >= 0.5) {
        img[i] += add;
        continue;
      }
      let t = Math.pow(Math.max(scratch.h, 0.02), st.profile);
      if (hollow) {
        const inner = scratch.h > 1 - shell ? 1 : 0;
        t *= 1 - (0.55 * inner * (scratch.h - (1 - shell))) / shell;
      }
      if (bandAmp > 0) {
        const pu = (x + 0.5 - s.cx) * bc + (y + 0.5 - s.cy) * bs;
        let k = 0;
        while (k < nBands && pu > bandAt[k]) k++;
        t *= bandLevel[k];
      }
      if (fringeAmp > 0) t *= 1 + fringeAmp * Math.sin(((x * fc + y * fs) * 2 * Math.PI) / fringeP);
      t *= 1 + st.textureAmp * texture[i] + (x + 0.5 - s.cx) * wx + (y + 0.5 - s.cy) * wy;
      let lnTrans = lnT * t * shellK;
      if (coreShell) {
        const cdx = x + 0.5 - coreX;
        const cdy = y + 0.5 - coreY;
        const q = 1 - (cdx * cdx + cdy * cdy) / (coreR * coreR);
        if (q > 0) lnTrans += coreLn * Math.sqrt(q);
      }
      const trans = Math.exp(lnTrans);
      const a = d <= -0.5 ? 1 : 0.5 - d;
      img[i] = img[i] * (1 - a + a * trans) + add;
      if (d < 0) {
        labels[i] = id;
        count++;
      }
    }
  }
  return count;
}
