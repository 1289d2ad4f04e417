import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/core/decode/index';
import {
  PARTICLES_HEADER,
  SUMMARY_HEADER,
  formatNumber,
  parseCsv,
  parseCsvRecords,
  particlesCsv,
  particlesCsvRows,
  poolImage,
  poolImageFromCsvRows,
  pooledRow,
  summaryCsv,
  summaryCsvRow,
} from '../src/core/export/csv';
import { encodeLabelPng } from '../src/core/export/label-png';
import { encodeOverlayPng, renderOverlay } from '../src/core/export/overlay';
import { labelComponents } from '../src/core/label';
import { measureParticles } from '../src/core/measure';
import { percentileStretch, toGrey } from '../src/core/normalise';
import { resizeBilinear } from '../src/core/resize';
import { summarize } from '../src/core/stats';
import type { Calibration, ImageAnalysis } from '../src/core/types';
import { convertLength, metricValues, toUnits } from '../src/core/units';
import { collectValues } from '../src/app/components/view/metrics';
import { blank, disc, rect } from './helpers/draw';

function analysis(name: string, calibration: Calibration, seconds = 0.5): ImageAnalysis {
  const m = blank(80, 60);
  disc(m, 20, 20, 8);
  disc(m, 55, 25, 12);
  rect(m, 0, 45, 10, 10); // touches the edge: excluded
  rect(m, 40, 50, 2, 2); // small: excluded
  const labels = labelComponents(m, 8);
  const particles = measureParticles(labels, { minAreaPx: 10, excludeEdges: true });
  return {
    name,
    width: 80,
    height: 60,
    meta: { format: 'png', bitDepth: 8, channels: 1 },
    calibration,
    excluded: [],
    labels,
    particles,
    method: 'threshold',
    seconds,
    warnings: [],
  };
}

const NM: Calibration = { pixelSize: 2.5, unit: 'nm', source: 'metadata' };
const UM: Calibration = { pixelSize: 0.004, unit: 'um', source: 'scale-bar' };
const PX: Calibration = { pixelSize: null, unit: 'px', source: 'none' };

describe('units', () => {
  it('scales areas by the square and lengths linearly; px when uncalibrated', () => {
    const a = analysis('a', NM);
    const p = a.particles.find((q) => q.excluded === null)!;
    const u = toUnits(p, NM);
    expect(u.area).toBeCloseTo(p.area * 6.25, 9);
    expect(u.ecd).toBeCloseTo(p.ecd * 2.5, 9);
    expect(u.feretMax).toBeCloseTo(p.feretMax * 2.5, 9);
    expect(u.circularity).toBe(p.circularity);
    expect(u.x).toBe(p.x);
    expect(u.unit).toBe('nm');
    expect(toUnits(p, PX)).toMatchObject({ area: p.area, ecd: p.ecd, unit: 'px' });
    expect(metricValues(a.particles, NM, 'ecd')).toHaveLength(2);
    expect(convertLength(1.5, 'um', 'nm')).toBe(1500);
    expect(() => convertLength(1, 'px', 'nm')).toThrow();
  });
});

describe('CSV', () => {
  it('writes the contract headers exactly', () => {
    expect(PARTICLES_HEADER).toBe(
      'image,particle,x,y,area,ecd,perimeter,feret_max,feret_min,feret_angle,circularity,aspect_ratio,solidity,touches_edge,unit,area_unit,xy_unit,angle_unit',
    );
    expect(SUMMARY_HEADER).toBe(
      'image,width,height,pixel_size,unit,pixel_size_source,count,mean_ecd,median_ecd,std_ecd,d10,d50,d90,seconds,note',
    );
  });

  it('formats numbers with 6 significant digits and no exponent', () => {
    expect(formatNumber(12.3456789)).toBe('12.3457');
    expect(formatNumber(0.000123456789)).toBe('0.000123457');
    expect(formatNumber(1234567.89)).toBe('1234568');
    expect(formatNumber(40)).toBe('40');
    expect(formatNumber(NaN)).toBe('');
  });

  it('round-trips particles: same ids and numbers, only included particles, quoted names', () => {
    const list = [analysis('plain.png', NM), analysis('odd, "name".tif', PX)];
    const text = particlesCsv(list);
    const rows = parseCsv(text);
    expect(rows[0].join(',')).toBe(PARTICLES_HEADER);
    expect(text).toContain('"odd, ""name"".tif"');
    const recs = parseCsvRecords(text);
    const expected = list.flatMap((a) =>
      a.particles.filter((p) => p.excluded === null).map((p) => ({ a, p })),
    );
    expect(recs).toHaveLength(expected.length);
    expect(expected.length).toBe(4);
    recs.forEach((r, i) => {
      const { a, p } = expected[i];
      const u = toUnits(p, a.calibration);
      expect(r.image).toBe(a.name);
      expect(Number(r.particle)).toBe(p.id);
      const pairs: [string, number][] = [
        ['x', p.x],
        ['y', p.y],
        ['area', u.area],
        ['ecd', u.ecd],
        ['perimeter', u.perimeter],
        ['feret_max', u.feretMax],
        ['feret_min', u.feretMin],
        ['feret_angle', u.feretAngle],
        ['circularity', u.circularity],
        ['aspect_ratio', u.aspectRatio],
        ['solidity', u.solidity],
      ];
      for (const [k, v] of pairs)
        expect(Math.abs(Number(r[k]) - v)).toBeLessThanOrEqual(Math.abs(v) * 1e-5 + 1e-9);
      expect(r.touches_edge).toBe(p.touchesEdge ? '1' : '0');
      expect(r.unit).toBe(u.unit);
      // Every column's unit is explicit: the centroid stays in pixels whatever `unit` says.
      expect([r.area_unit, r.xy_unit, r.angle_unit]).toEqual([`${u.unit}^2`, 'px', 'deg']);
    });
  });

  it('summarises each image and pools calibrated images in one unit', () => {
    const a = analysis('a.png', NM, 0.25);
    const b = analysis('b.png', UM, 0.5);
    const recs = parseCsvRecords(summaryCsv([a, b]));
    expect(recs.map((r) => r.image)).toEqual(['a.png', 'b.png', '*']);
    const ecdA = a.particles.filter((p) => p.excluded === null).map((p) => p.ecd * 2.5);
    const sa = summarize(ecdA);
    expect(recs[0]).toMatchObject({
      width: '80',
      height: '60',
      pixel_size: '2.5',
      unit: 'nm',
      pixel_size_source: 'metadata',
    });
    expect(Number(recs[0].count)).toBe(2);
    expect(Number(recs[0].mean_ecd)).toBeCloseTo(sa.mean, 3);
    expect(Number(recs[0].d90)).toBeCloseTo(sa.d90, 3);
    expect(Number(recs[0].seconds)).toBe(0.25);
    expect(recs[1]).toMatchObject({ unit: 'um', pixel_size: '0.004', pixel_size_source: 'scale-bar' });
    // um pooled into nm: 0.004 um = 4 nm per pixel.
    const pooled = summarize([
      ...ecdA,
      ...b.particles.filter((p) => p.excluded === null).map((p) => p.ecd * 4),
    ]);
    expect(recs[2]).toMatchObject({ unit: 'nm', width: '', pixel_size: '', count: '4' });
    expect(Number(recs[2].median_ecd)).toBeCloseTo(pooled.median, 3);
    expect(Number(recs[2].seconds)).toBe(0.75);
  });

  it('pools px with nm as the app does: the uncalibrated images left out, and the note says so', () => {
    const a = analysis('a', NM, 0.5);
    const recs = parseCsvRecords(
      summaryCsv([a, analysis('b', PX, 0.25), analysis('c', PX, 0.25), analysis('d', UM, 0.5)]),
    );
    expect(recs[1]).toMatchObject({ unit: 'px', pixel_size: '', pixel_size_source: 'none', note: '' });
    const ecds = [...a.particles, ...a.particles].filter((p) => p.excluded === null).map((p) => p.ecd);
    // a: 2.5 nm/px; d: 0.004 um/px = 4 nm/px; tie between nm and um goes to nm.
    const pooled = summarize([...ecds.slice(0, 2).map((v) => v * 2.5), ...ecds.slice(2).map((v) => v * 4)]);
    expect(recs[4]).toMatchObject({
      image: '*',
      unit: 'nm',
      count: '4',
      pixel_size: '',
      pixel_size_source: '',
      seconds: '1.5',
      note: '2 of 4 images left out (no pixel size; px cannot be pooled with nm): b; c',
    });
    expect(Number(recs[4].median_ecd)).toBeCloseTo(pooled.median, 3);
    // The app pools the same way (one rule, units.pooledUnit).
    const app = collectValues([a, analysis('b', PX), analysis('c', PX), analysis('d', UM)], 'ecd');
    expect(app.unit).toBe('nm');
    expect(app.skipped).toEqual(['b', 'c']);
    const allPx = parseCsvRecords(summaryCsv([analysis('a', PX), analysis('b', PX)]));
    expect(allPx[2]).toMatchObject({ unit: 'px', count: '4', pixel_size_source: 'none' });
  });

  it('pools images read back from their CSV rows as it pools the analyses (a resumed CLI batch)', () => {
    const list = [analysis('a, "1".png', NM, 0.25), analysis('b.png', UM, 0.5), analysis('c.png', NM, 1.25)];
    const back = list.map((a) =>
      poolImageFromCsvRows(parseCsv(summaryCsvRow(a))[0], parseCsv(particlesCsvRows(a).join('\n'))),
    );
    expect(back.map((p) => [p.name, p.unit, p.pixelSize, p.source, p.ecds.length, p.seconds])).toEqual([
      ['a, "1".png', 'nm', 2.5, 'metadata', 2, 0.25],
      ['b.png', 'um', 0.004, 'scale-bar', 2, 0.5],
      ['c.png', 'nm', 2.5, 'metadata', 2, 1.25],
    ]);
    back.forEach((p, i) =>
      p.ecds.forEach((v, j) => expect(Math.abs(v - poolImage(list[i]).ecds[j])).toBeLessThan(v * 1e-5)),
    );
    const exact = parseCsv(pooledRow(list.map(poolImage)))[0];
    const read = parseCsv(pooledRow(back))[0];
    // Count, unit, pixel size and source exactly; sizes to the 6 digits the ECDs were written with.
    expect(read.slice(0, 7)).toEqual(exact.slice(0, 7));
    expect(read[13]).toBe(exact[13]);
    for (let c = 7; c < 13; c++)
      expect(Math.abs(Number(read[c]) - Number(exact[c]))).toBeLessThanOrEqual(Number(exact[c]) * 1e-5);
    expect(pooledRow(list.map(poolImage))).toBe(summaryCsv(list).trim().split('\n').pop());
  });

  it('refuses CSV rows that do not belong together', () => {
    const a = analysis('a.png', NM);
    const summary = parseCsv(summaryCsvRow(a))[0];
    const rows = parseCsv(particlesCsvRows(a).join('\n'));
    expect(() => poolImageFromCsvRows(summary, rows.slice(1))).toThrow(
      'summary.csv counts 2 particles for a.png, particles.csv holds 1',
    );
    expect(() => poolImageFromCsvRows(summary, [['b.png', ...rows[0].slice(1)], rows[1]])).toThrow(
      "a particles row among a.png's is not a.png's",
    );
  });

  it('parses quotes, embedded newlines, CRLF and a BOM', () => {
    expect(parseCsv('\ufeffa,b\r\n"x, ""y""","line1\nline2"\r\n,\n')).toEqual([
      ['a', 'b'],
      ['x, "y"', 'line1\nline2'],
      ['', ''],
    ]);
  });
});

describe('label PNG', () => {
  it('decodes back to the same size and particle ids, excluded particles zeroed', () => {
    const a = analysis('a', NM);
    const png = encodeLabelPng(a.labels, a.particles);
    const d = decodeImage(png, 'labels.png');
    expect(d.raster).toMatchObject({ width: 80, height: 60, bitDepth: 16, channels: 1 });
    const included = new Set(a.particles.filter((p) => p.excluded === null).map((p) => p.id));
    let checked = 0;
    for (let i = 0; i < a.labels.data.length; i++) {
      const v = a.labels.data[i];
      expect(d.raster.data[i]).toBe(included.has(v) ? v : 0);
      if (v && included.has(v)) checked++;
    }
    expect(checked).toBeGreaterThan(600);
    // Without a particle list every label is written.
    const all = decodeImage(encodeLabelPng(a.labels));
    expect(Array.from(all.raster.data)).toEqual(Array.from(a.labels.data));
  });

  it('refuses ids beyond 16 bits', () => {
    const labels = { width: 2, height: 1, data: Int32Array.from([70000, 0]), count: 70000 };
    expect(() => encodeLabelPng(labels)).toThrow(/16-bit/);
  });
});

describe('overlay', () => {
  const m = rect(blank(10, 8), 2, 2, 5, 4);
  const labels = labelComponents(m, 8);
  const particles = measureParticles(labels, { minAreaPx: 0, excludeEdges: false });

  it('outlines only the boundary pixels, fills translucently', () => {
    const o = renderOverlay(labels, particles, { mode: 'outline', included: [255, 0, 0] });
    const at = (x: number, y: number) => Array.from(o.subarray((y * 10 + x) * 4, (y * 10 + x) * 4 + 4));
    expect(at(2, 2)).toEqual([255, 0, 0, 255]);
    expect(at(6, 5)).toEqual([255, 0, 0, 255]);
    expect(at(4, 3)).toEqual([0, 0, 0, 0]); // interior
    expect(at(0, 0)).toEqual([0, 0, 0, 0]); // background
    const f = renderOverlay(labels, particles, { mode: 'filled', opacity: 0.5, included: [0, 255, 0] });
    expect(Array.from(f.subarray((3 * 10 + 4) * 4, (3 * 10 + 4) * 4 + 4))).toEqual([0, 255, 0, 128]);
    const sel = renderOverlay(labels, particles, { mode: 'outline', selectedId: 1, selected: [1, 2, 3] });
    expect(Array.from(sel.subarray((2 * 10 + 2) * 4, (2 * 10 + 2) * 4 + 4))).toEqual([1, 2, 3, 255]);
  });

  it('exports an RGB PNG over the image', () => {
    const base = { width: 10, height: 8, data: new Float32Array(80).fill(0.5) };
    const d = decodeImage(
      encodeOverlayPng(base, labels, particles, { mode: 'outline', included: [255, 0, 0] }),
    );
    expect(d.raster).toMatchObject({ width: 10, height: 8, channels: 3 });
    expect(Array.from(d.raster.data.subarray(0, 3))).toEqual([128, 128, 128]);
    const i = (2 * 10 + 2) * 3;
    expect(Array.from(d.raster.data.subarray(i, i + 3))).toEqual([255, 0, 0]);
  });
});

describe('normalise and resize', () => {
  it('toGrey keeps the full range and uses luma for RGB', () => {
    const g16 = toGrey({
      width: 2,
      height: 1,
      data: Uint16Array.from([0, 65535]),
      bitDepth: 16,
      channels: 1,
    });
    expect(Array.from(g16.data)).toEqual([0, 65535]);
    const rgb = toGrey({
      width: 1,
      height: 1,
      data: Uint8Array.from([100, 200, 50, 7]),
      bitDepth: 8,
      channels: 4,
    });
    expect(rgb.data[0]).toBeCloseTo(0.299 * 100 + 0.587 * 200 + 0.114 * 50, 4);
  });

  it('percentileStretch maps percentiles to 0 and 1, with a mask choosing the pixels', () => {
    const data = new Float32Array(101);
    for (let i = 0; i <= 100; i++) data[i] = i * 10;
    const g = { width: 101, height: 1, data };
    const s = percentileStretch(g, 10, 90);
    expect(s.data[10]).toBeCloseTo(0, 6);
    expect(s.data[90]).toBeCloseTo(1, 6);
    expect(s.data[50]).toBeCloseTo(0.5, 6);
    expect(s.data[0]).toBe(0);
    expect(s.data[100]).toBe(1);
    // A bright "banner" (last 21 pixels) left out of the percentiles.
    const mask = new Uint8Array(101).fill(1).fill(0, 80);
    const t = percentileStretch(g, 0, 100, mask);
    expect(t.data[79]).toBeCloseTo(1, 6);
    expect(t.data[40]).toBeCloseTo(40 / 79, 5);
    expect(percentileStretch({ width: 3, height: 1, data: new Float32Array(3).fill(5) }, 1, 99).data).toEqual(
      new Float32Array(3),
    );
  });

  it('resizeBilinear keeps constants, interpolates ramps with aligned centres', () => {
    const c = resizeBilinear({ width: 4, height: 4, data: new Float32Array(16).fill(3) }, 7, 5);
    expect(Array.from(c.data).every((v) => Math.abs(v - 3) < 1e-6)).toBe(true);
    const ramp = { width: 4, height: 1, data: Float32Array.from([0, 1, 2, 3]) };
    const up = resizeBilinear(ramp, 8, 1);
    // Source x of output pixel i is (i + 0.5) / 2 - 0.5, clamped to [0, 3].
    expect(Array.from(up.data)).toEqual([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
    const down = resizeBilinear(
      { width: 8, height: 1, data: Float32Array.from([0, 0, 4, 4, 8, 8, 12, 12]) },
      2,
      1,
    );
    expect(Array.from(down.data)).toEqual([2, 10]);
  });
});
