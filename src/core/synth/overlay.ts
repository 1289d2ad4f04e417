/**
 * Burned-in annotations: the SEM info banner (a uniform band at the bottom with instrument text
 * and a scale bar), free-standing scale bars and panel letters as journal figures carry them.
 * Everything drawn here is recorded in `cover` so that the instance mask can be cleared under it:
 * the model must learn that text and bars are not particles.
 */
import { measureText, renderText } from '../calibrate/font';
import type { Rng } from './prng';

export interface ScaleBarTruth {
  /** First and last bar column (inclusive) and the bar's centre row. */
  x0: number;
  x1: number;
  y: number;
  /** x1 - x0 + 1. */
  lengthPx: number;
  value: number;
  unit: 'nm' | 'um';
  /** Label as drawn, e.g. "200 nm" or "2 µm". */
  text: string;
  /** Bar thickness in pixels and the label box drawn with it. */
  thickness: number;
  textBox?: { x0: number; y0: number; x1: number; y1: number };
}

export interface Surface {
  width: number;
  height: number;
  img: Float32Array;
  /** 1 where an annotation covers the pixel. */
  cover: Uint8Array;
}

const NICE = [1, 2, 2.5, 3, 5];

/** Picks a round bar value near `targetPx * pixelSize` nm; returns value in nm. */
export function niceLength(targetNm: number): number {
  const e = Math.floor(Math.log10(targetNm));
  let best = 1;
  let bestErr = Infinity;
  for (let k = e - 1; k <= e + 1; k++) {
    for (const m of NICE) {
      const v = m * 10 ** k;
      const err = Math.abs(Math.log(v / targetNm));
      if (err < bestErr) {
        bestErr = err;
        best = v;
      }
    }
  }
  return Number(best.toPrecision(3));
}

export function barLabel(valueNm: number, rng: Rng): { value: number; unit: 'nm' | 'um'; text: string } {
  const micro = rng.chance(0.8) ? '\u00B5' : rng.chance(0.5) ? '\u03BC' : 'u';
  if (valueNm >= 1000 && !(valueNm % 100 !== 0 && rng.chance(0.5))) {
    const v = Number((valueNm / 1000).toPrecision(3));
    return { value: v, unit: 'um', text: `${v}${rng.chance(0.85) ? ' ' : ''}${micro}m` };
  }
  return { value: valueNm, unit: 'nm', text: `${valueNm}${rng.chance(0.85) ? ' ' : ''}nm` };
}

function fillRect(
  s: Surface,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  v: number,
  cover: boolean,
): void {
  const xa = Math.max(0, Math.floor(x0));
  const xb = Math.min(s.width - 1, Math.ceil(x1));
  const ya = Math.max(0, Math.floor(y0));
  const yb = Math.min(s.height - 1, Math.ceil(y1));
  for (let y = ya; y <= yb; y++) {
    for (let x = xa; x <= xb; x++) {
      s.img[y * s.width + x] = v;
      if (cover) s.cover[y * s.width + x] = 1;
    }
  }
}

/** Draws text and marks its pixels (with a one-pixel margin) as covered. */
function text(
  s: Surface,
  str: string,
  x: number,
  y: number,
  scale: number,
  v: number,
  bold: boolean,
): number {
  const m = measureText(str, scale, { bold });
  const tmp = new Float32Array(m.width * m.height).fill(-1);
  renderText({ width: m.width, height: m.height, data: tmp }, str, 0, 0, scale, 1, { bold });
  const W = s.width;
  for (let ty = 0; ty < m.height; ty++) {
    for (let tx = 0; tx < m.width; tx++) {
      if (tmp[ty * m.width + tx] !== 1) continue;
      const px = Math.round(x) + tx;
      const py = Math.round(y) + ty;
      if (px < 0 || py < 0 || px >= W || py >= s.height) continue;
      s.img[py * W + px] = v;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const qx = px + dx;
          const qy = py + dy;
          if (qx >= 0 && qy >= 0 && qx < W && qy < s.height) s.cover[qy * W + qx] = 1;
        }
      }
    }
  }
  return m.width;
}

const FIELDS = [
  () => 'HV',
  () => 'WD',
  () => 'mag',
  () => 'det',
  () => 'EHT',
  () => 'Signal A = InLens',
  () => 'SE2',
  () => 'ETD',
  () => 'TLD',
  () => 'HFW',
  () => 'spot',
  () => 'Date :24 Nov 2026',
  () => 'SEI',
  () => 'LEI',
  () => 'x50,000',
  () => 'Mode SE',
];

function fieldText(rng: Rng): string {
  const f = rng.pick(FIELDS)();
  switch (f) {
    case 'HV':
      return `HV ${rng.pick(['1.00', '2.00', '5.00', '10.00', '15.00', '20.00', '30.00'])} kV`;
    case 'WD':
      return `WD ${rng.range(2, 15).toFixed(1)} mm`;
    case 'mag':
      return `Mag = ${rng.pick(['5.00', '10.00', '25.00', '50.00', '100.00', '200.00'])} K X`;
    case 'EHT':
      return `EHT = ${rng.pick(['3.00', '5.00', '10.00', '15.00'])} kV`;
    case 'HFW':
      return `HFW ${rng.range(0.5, 50).toFixed(2)} \u00B5m`;
    case 'spot':
      return `spot ${rng.range(1, 6).toFixed(1)}`;
    case 'det':
      return `det ${rng.pick(['ETD', 'TLD', 'CBS', 'vCD'])}`;
    default:
      return f;
  }
}

export interface BannerResult {
  y0: number;
  y1: number;
  scaleBar: ScaleBarTruth;
}

/** SEM info banner at the bottom: rows [y0, height) become the band, with fields and a scale bar. */
export function drawBanner(s: Surface, pixelSizeNm: number, rng: Rng): BannerResult {
  const { width: W, height: H } = s;
  const bh = Math.max(16, Math.round(H * rng.range(0.06, 0.14)));
  const y0 = H - bh;
  const style = rng.weighted([0.7, 0.15, 0.15]);
  const bgv = style === 0 ? rng.range(0, 0.08) : style === 1 ? rng.range(0.2, 0.45) : rng.range(0.85, 1);
  const ink = style === 2 ? rng.range(0, 0.15) : rng.range(0.85, 1);
  fillRect(s, 0, y0, W - 1, H - 1, bgv, true);
  if (rng.chance(0.5)) fillRect(s, 0, y0, W - 1, y0, ink, true);
  const scale = Math.max(1, Math.min(4, Math.floor((bh * rng.range(0.3, 0.45)) / 7)));
  const lineH = 9 * scale + 2;
  const rows = Math.max(1, Math.min(2, Math.floor((bh - 4) / lineH)));
  const bold = rng.chance(0.4);
  // the scale bar gets a block at a random horizontal slot
  const barTarget = W * rng.range(0.08, 0.22);
  const niceNm = niceLength(barTarget * pixelSizeNm);
  const lengthPx = Math.max(8, Math.round(niceNm / pixelSizeNm));
  const label = barLabel(niceNm, rng);
  const lm = measureText(label.text, scale, { bold });
  const blockW = Math.max(lengthPx, lm.width) + 8;
  const bx = Math.round(
    rng.chance(0.5) ? W - blockW - rng.range(4, W * 0.1) : rng.range(4, Math.max(5, W - blockW - 4)),
  );
  const thick = Math.max(2, Math.round(bh * rng.range(0.08, 0.18)));
  const barX0 = bx + 4;
  const barX1 = barX0 + lengthPx - 1;
  let barY: number;
  let textBox: ScaleBarTruth['textBox'];
  const inkBar = rng.chance(0.85) ? ink : 1 - bgv;
  if (rows >= 2 || lm.height + thick + 6 <= bh) {
    const ty = y0 + Math.max(2, Math.round((bh - lm.height - thick - 4) / 2));
    const tx = barX0 + Math.round((lengthPx - lm.width) / 2);
    text(s, label.text, tx, ty, scale, ink, bold);
    textBox = { x0: tx, y0: ty, x1: tx + lm.width - 1, y1: ty + lm.height - 1 };
    barY = ty + lm.height + 2;
  } else {
    barY = y0 + Math.round((bh - thick) / 2);
    const tx = barX1 + 4;
    text(s, label.text, tx, y0 + Math.round((bh - lm.height) / 2), scale, ink, bold);
    textBox = {
      x0: tx,
      y0: y0 + Math.round((bh - lm.height) / 2),
      x1: tx + lm.width - 1,
      y1: y0 + Math.round((bh - lm.height) / 2) + lm.height - 1,
    };
  }
  fillRect(s, barX0, barY, barX1, barY + thick - 1, inkBar, true);
  if (rng.chance(0.3)) {
    fillRect(s, barX0, barY - thick, barX0, barY + 2 * thick - 1, inkBar, true);
    fillRect(s, barX1, barY - thick, barX1, barY + 2 * thick - 1, inkBar, true);
  }
  // instrument fields around the bar block
  for (let r = 0; r < rows; r++) {
    let x = 4 + rng.range(0, 10);
    const ty = y0 + 3 + r * lineH + (rows === 1 ? Math.round((bh - lineH) / 2) : 0);
    while (x < W - 20) {
      const t = fieldText(rng);
      const w = measureText(t, scale, { bold }).width;
      const overlapsBar = x + w > bx - 4 && x < bx + blockW + 4;
      if (!overlapsBar && x + w < W - 4) text(s, t, x, ty, scale, ink, bold);
      x += w + rng.range(8, 30) * scale;
      if (overlapsBar) x = bx + blockW + 8;
      if (rng.chance(0.15)) break;
    }
  }
  if (rng.chance(0.4)) {
    // vertical separators as in FEI/Thermo banners
    for (let k = 0; k < 3; k++) {
      const x = Math.round(rng.range(0, W));
      if (x > bx - 6 && x < bx + blockW + 6) continue;
      fillRect(s, x, y0 + 1, x, H - 2, ink * 0.7 + bgv * 0.3, true);
    }
  }
  const y = barY + (thick - 1) / 2;
  return {
    y0,
    y1: H,
    scaleBar: {
      x0: barX0,
      x1: barX1,
      y,
      lengthPx,
      value: label.value,
      unit: label.unit,
      text: label.text,
      thickness: thick,
      textBox,
    },
  };
}

/** A scale bar burned into the image itself (journal-figure style), bottom left or right. */
export function drawImageScaleBar(s: Surface, pixelSizeNm: number, rng: Rng): ScaleBarTruth {
  const { width: W, height: H } = s;
  const niceNm = niceLength(W * rng.range(0.1, 0.3) * pixelSizeNm);
  const lengthPx = Math.max(8, Math.round(niceNm / pixelSizeNm));
  const label = barLabel(niceNm, rng);
  const scale = Math.max(1, Math.min(4, Math.round((H * rng.range(0.025, 0.05)) / 7)));
  const bold = rng.chance(0.6);
  const lm = measureText(label.text, scale, { bold });
  const thick = Math.max(2, Math.round(H * rng.range(0.006, 0.02)));
  const ink = rng.chance(0.65) ? 1 : 0;
  const boxW = Math.max(lengthPx, lm.width) + 8;
  const boxH = lm.height + thick + 10;
  const right = rng.chance(0.7);
  const bx = right ? W - boxW - Math.round(rng.range(2, W * 0.05)) : Math.round(rng.range(2, W * 0.05));
  const by = H - boxH - Math.round(rng.range(2, H * 0.05));
  if (rng.chance(0.35)) fillRect(s, bx, by, bx + boxW - 1, by + boxH - 1, 1 - ink, true);
  const barX0 = bx + Math.round((boxW - lengthPx) / 2);
  const barX1 = barX0 + lengthPx - 1;
  const textAbove = rng.chance(0.5);
  const ty = textAbove ? by + 3 : by + thick + 7;
  const barY = textAbove ? by + lm.height + 6 : by + 3;
  const tx = bx + Math.round((boxW - lm.width) / 2);
  text(s, label.text, tx, ty, scale, ink, bold);
  fillRect(s, barX0, barY, barX1, barY + thick - 1, ink, true);
  return {
    x0: barX0,
    x1: barX1,
    y: barY + (thick - 1) / 2,
    lengthPx,
    value: label.value,
    unit: label.unit,
    text: label.text,
    thickness: thick,
    textBox: { x0: tx, y0: ty, x1: tx + lm.width - 1, y1: ty + lm.height - 1 },
  };
}

const PANEL = [
  '(a)',
  '(b)',
  '(c)',
  '(d)',
  'a',
  'b',
  'c',
  'A',
  'B',
  'b2',
  'Au NPs',
  'Ag',
  'TiO2',
  'SiO2',
  '(e)',
  'Fe3O4',
];

/** A panel letter or short sample name in the top-left corner. */
export function drawPanelLabel(s: Surface, rng: Rng): void {
  const str = rng.pick(PANEL);
  const scale = Math.max(1, Math.min(6, Math.round((s.height * rng.range(0.03, 0.07)) / 7)));
  const bold = rng.chance(0.7);
  const ink = rng.chance(0.5) ? 1 : 0;
  const m = measureText(str, scale, { bold });
  const x = Math.round(rng.range(2, s.width * 0.04));
  const y = Math.round(rng.range(2, s.height * 0.04));
  if (rng.chance(0.4)) fillRect(s, x - 3, y - 3, x + m.width + 2, y + m.height + 2, 1 - ink, true);
  text(s, str, x, y, scale, ink, bold);
}
