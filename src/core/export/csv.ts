/**
 * particles.csv and summary.csv exactly as the CLI contract in DESIGN.md fixes them.
 *
 * Numbers carry 6 significant digits (coordinates, sizes) without exponent notation; pixel sizes 8.
 * An empty cell means "not defined" (e.g. std of fewer than two particles, no particles at all).
 * Only included particles (excluded === null) appear in particles.csv and in the statistics.
 *
 * Units: `unit` is the unit of the lengths (ecd, perimeter, feret_max, feret_min); the columns appended after
 * it (DESIGN's contract allows additions that keep old uses working, and columns at the end do) name the rest:
 * area_unit (unit^2), xy_unit (the centroid is in pixels, always) and angle_unit (feret_angle, degrees);
 * circularity, aspect_ratio and solidity have none.
 *
 * Pooled row `*`: all included particles of all images in one distribution, in the unit the app pools in
 * (units.pooledUnit: the most common calibrated unit, um and nm converted; px only when no image is
 * calibrated). Uncalibrated images in a batch with calibrated ones are left out of the pooled count and size
 * statistics, as the app leaves them out, and summary.csv's `note` column on the `*` row names them.
 * width/height are empty; pixel_size and pixel_size_source are given only when all pooled images share them;
 * seconds adds up every image's.
 */
import { summarize } from '../stats';
import type { CalibrationSource, ImageAnalysis, LengthUnit } from '../types';
import { convertLength, includedParticles, pooledUnit, toUnits, unitScale } from '../units';

export const PARTICLES_HEADER =
  'image,particle,x,y,area,ecd,perimeter,feret_max,feret_min,feret_angle,circularity,aspect_ratio,solidity,touches_edge,unit,area_unit,xy_unit,angle_unit';
export const SUMMARY_HEADER =
  'image,width,height,pixel_size,unit,pixel_size_source,count,mean_ecd,median_ecd,std_ecd,d10,d50,d90,seconds,note';
const PARTICLES_COLUMNS = PARTICLES_HEADER.split(',').length;
const SUMMARY_COLUMNS = SUMMARY_HEADER.split(',').length;

/** Formats with `sig` significant digits, no exponent, trailing zeros dropped; '' for NaN/undefined. */
export function formatNumber(v: number | null | undefined, sig = 6): string {
  if (v == null || !Number.isFinite(v)) return '';
  if (v === 0) return '0';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const mag = Math.floor(Math.log10(Math.abs(v)));
  const decimals = Math.min(15, Math.max(0, sig - 1 - mag));
  let s = v.toFixed(decimals);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

/** RFC 4180: quote fields holding a comma, quote, CR or LF (or edge spaces), doubling inner quotes. */
export function csvField(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function particlesCsvRows(a: ImageAnalysis): string[] {
  const name = csvField(a.name);
  const rows: string[] = [];
  for (const p of includedParticles(a.particles)) {
    const u = toUnits(p, a.calibration);
    rows.push(
      [
        name,
        String(p.id),
        formatNumber(p.x),
        formatNumber(p.y),
        formatNumber(u.area),
        formatNumber(u.ecd),
        formatNumber(u.perimeter),
        formatNumber(u.feretMax),
        formatNumber(u.feretMin),
        formatNumber(u.feretAngle),
        formatNumber(u.circularity),
        formatNumber(u.aspectRatio),
        formatNumber(u.solidity),
        p.touchesEdge ? '1' : '0',
        u.unit,
        `${u.unit}^2`,
        'px',
        'deg',
      ].join(','),
    );
  }
  return rows;
}

function ecdValues(a: ImageAnalysis, to?: LengthUnit): number[] {
  const { scale, unit } = unitScale(a.calibration);
  return includedParticles(a.particles).map((p) => {
    const v = p.ecd * scale;
    return to && to !== unit ? convertLength(v, unit, to) : v;
  });
}

function statsCells(values: number[]): string[] {
  const s = summarize(values);
  return [
    String(s.count),
    formatNumber(s.mean),
    formatNumber(s.median),
    formatNumber(s.std),
    formatNumber(s.d10),
    formatNumber(s.d50),
    formatNumber(s.d90),
  ];
}

export function summaryCsvRow(a: ImageAnalysis): string {
  const { unit } = unitScale(a.calibration);
  return [
    csvField(a.name),
    String(a.width),
    String(a.height),
    unit === 'px' ? '' : formatNumber(a.calibration.pixelSize, 8),
    unit,
    unit === 'px' ? 'none' : a.calibration.source,
    ...statsCells(ecdValues(a)),
    formatNumber(a.seconds, 4),
    '',
  ].join(',');
}

/**
 * What the pooled row needs of one image: its reported unit and pixel size, source, the included particles'
 * ECDs in that unit, and its seconds. Built from an analysis, or read back from CSV rows already written (a
 * resumed CLI batch), so the pooled row can cover images analysed by an earlier process.
 */
export interface PoolImage {
  name: string;
  /** Reported unit: px when uncalibrated. */
  unit: LengthUnit;
  /** Pixel size in `unit`; null when uncalibrated. */
  pixelSize: number | null;
  source: CalibrationSource;
  ecds: number[];
  seconds: number;
}

export function poolImage(a: ImageAnalysis): PoolImage {
  const { unit } = unitScale(a.calibration);
  return {
    name: a.name,
    unit,
    pixelSize: unit === 'px' ? null : a.calibration.pixelSize,
    source: unit === 'px' ? 'none' : a.calibration.source,
    ecds: ecdValues(a),
    seconds: a.seconds,
  };
}

export function pooledRow(list: PoolImage[]): string {
  const unit = pooledUnit(list.map((a) => a.unit));
  const pooled = list.filter((a) => (a.unit === 'px') === (unit === 'px'));
  const left = list.filter((a) => !pooled.includes(a));
  const seconds = list.reduce((t, a) => t + a.seconds, 0);
  // Compared as printed: a pixel size read back from summary.csv carries 8 digits, a fresh one all of them.
  const sizes = new Set(
    pooled.map((a) => (a.unit === 'px' ? '' : `${formatNumber(a.pixelSize, 8)}${a.unit}`)),
  );
  const sources = new Set(pooled.map((a) => a.source));
  const first = pooled.length ? pooled[0] : null;
  const pixelSize = sizes.size === 1 && first && unit !== 'px' ? formatNumber(first.pixelSize, 8) : '';
  const source = sources.size === 1 ? [...sources][0] : '';
  const values: number[] = [];
  for (const a of pooled)
    for (const v of a.ecds) values.push(a.unit === unit ? v : convertLength(v, a.unit, unit));
  const note = left.length
    ? `${left.length} of ${list.length} images left out (no pixel size; px cannot be pooled with ${unit}): ${left
        .map((a) => a.name)
        .join('; ')}`
    : '';
  return [
    '*',
    '',
    '',
    pixelSize,
    list.length ? unit : '',
    source,
    ...statsCells(values),
    formatNumber(seconds, 4),
    csvField(note),
  ].join(',');
}

const UNITS: ReadonlySet<string> = new Set(['nm', 'um', 'px']);
const SOURCES: ReadonlySet<string> = new Set(['metadata', 'scale-bar', 'manual', 'none']);

/**
 * One image's summary.csv row and its particles.csv rows, as written by this module and parsed back by
 * parseCsv, as a pool input: the pooled row of a batch can then include images whose analyses are gone.
 * Throws a one-line Error when the rows do not fit together.
 */
export function poolImageFromCsvRows(summary: string[], particles: string[][]): PoolImage {
  const [name, , , pixelSize, unit, source, count] = summary;
  if (summary.length !== SUMMARY_COLUMNS || !UNITS.has(unit) || !SOURCES.has(source))
    throw new Error(`the summary row of ${name} is not one this version writes`);
  const ecds: number[] = [];
  for (const r of particles) {
    if (r[0] !== name || r.length !== PARTICLES_COLUMNS)
      throw new Error(`a particles row among ${name}'s is not ${name}'s`);
    ecds.push(Number(r[5]));
  }
  if (ecds.length !== Number(count))
    throw new Error(`summary.csv counts ${count} particles for ${name}, particles.csv holds ${ecds.length}`);
  return {
    name,
    unit: unit as LengthUnit,
    pixelSize: unit === 'px' ? null : Number(pixelSize),
    source: source as CalibrationSource,
    ecds,
    seconds: Number(summary[13]),
  };
}

export function particlesCsv(list: ImageAnalysis[]): string {
  const lines = [PARTICLES_HEADER];
  for (const a of list) for (const r of particlesCsvRows(a)) lines.push(r);
  return lines.join('\n') + '\n';
}

export function summaryCsv(list: ImageAnalysis[]): string {
  const lines = [SUMMARY_HEADER, ...list.map(summaryCsvRow), pooledRow(list.map(poolImage))];
  return lines.join('\n') + '\n';
}

/** RFC 4180 parser: quoted fields with "" escapes and embedded newlines, CRLF or LF, optional BOM. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let quoted = false;
  let any = false;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      quoted = true;
      any = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      any = true;
      i++;
    } else if (c === '\r' || c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      any = false;
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      any = true;
      i++;
    }
  }
  if (any || field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** parseCsv keyed by the header row. */
export function parseCsvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}
