/**
 * Draws the PWA icons (public/icons/*.png) from the same motif as public/favicon.svg: three particles
 * with outlines on a dark field. Run after changing the design: `npx tsx src/app/pwa/make-icons.ts`.
 * Anti-aliased by 4x4 supersampling; no image library beyond the PNG encoder the app already uses.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { encode } from 'fast-png';

type RGB = [number, number, number];
const BG: RGB = [0x1d, 0x27, 0x33];
const FILL: RGB = [0x8f, 0xa6, 0xbf];
const RING: RGB = [0x4c, 0x8d, 0xff];

/** Circles in a 0..1 design space: centre, radius. */
const CIRCLES: [number, number, number][] = [
  [0.36, 0.38, 0.17],
  [0.66, 0.6, 0.2],
  [0.32, 0.74, 0.1],
];

function colourAt(x: number, y: number, scale: number, inset: number): RGB {
  // Maskable icons keep everything inside the 80 % safe zone: shrink the design towards the centre.
  const u = (x - 0.5) / scale + 0.5;
  const v = (y - 0.5) / scale + 0.5;
  let c: RGB = BG;
  for (const [cx, cy, r] of CIRCLES) {
    const d = Math.hypot(u - cx, v - cy);
    if (d <= r - inset) c = FILL;
    else if (d <= r) c = RING;
  }
  return c;
}

function draw(size: number, opts: { maskable: boolean; rounded: boolean }): Uint8Array {
  const ss = 4;
  const rgba = new Uint8Array(size * size * 4);
  const scale = opts.maskable ? 0.78 : 1;
  const inset = 0.028;
  const radius = opts.rounded ? 0.2 : 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const u = (x + (sx + 0.5) / ss) / size;
          const v = (y + (sy + 0.5) / ss) / size;
          // Rounded-square silhouette for the plain icon; full bleed for the maskable one.
          if (radius > 0) {
            const qx = Math.max(Math.abs(u - 0.5) - (0.5 - radius), 0);
            const qy = Math.max(Math.abs(v - 0.5) - (0.5 - radius), 0);
            if (Math.hypot(qx, qy) > radius) continue;
          }
          const c = colourAt(u, v, scale, inset);
          r += c[0];
          g += c[1];
          b += c[2];
          a += 255;
        }
      }
      const n = ss * ss;
      const i = (y * size + x) * 4;
      const cover = a / n / 255;
      rgba[i] = cover ? r / n / cover : 0;
      rgba[i + 1] = cover ? g / n / cover : 0;
      rgba[i + 2] = cover ? b / n / cover : 0;
      rgba[i + 3] = a / n;
    }
  }
  return encode({ width: size, height: size, data: rgba, channels: 4, depth: 8 });
}

const out = resolve(import.meta.dirname, '../../../public/icons');
writeFileSync(resolve(out, 'icon-192.png'), draw(192, { maskable: false, rounded: true }));
writeFileSync(resolve(out, 'icon-512.png'), draw(512, { maskable: false, rounded: true }));
writeFileSync(resolve(out, 'maskable-512.png'), draw(512, { maskable: true, rounded: false }));
writeFileSync(resolve(out, 'apple-touch-icon-180.png'), draw(180, { maskable: true, rounded: false }));
console.log(`icons written to ${out}`);
