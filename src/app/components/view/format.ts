/**
 * Presentation of pixel measurements in the calibration's unit. Particles are stored in pixels
 * (types.ts); only what is shown is converted.
 */
import type { Calibration, LengthUnit, Particle } from '../../../core/types';
import { displayUnit, unitScale } from '../../../core/units';

/** Display name of a length unit ('um' is stored, 'µm' is shown). */
export function unitLabel(unit: LengthUnit): string {
  return displayUnit(unit);
}

/** Multiplier from pixels to the calibrated length unit (1 px when there is no calibration). */
export function lengthScale(cal: Calibration | null | undefined): { k: number; unit: LengthUnit } {
  if (!cal) return { k: 1, unit: 'px' };
  const { scale, unit } = unitScale(cal);
  return { k: scale, unit };
}

/** Numbers for tables and tooltips: 3-4 significant digits, no exponent for everyday magnitudes. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6 || a < 1e-3) return v.toExponential(digits - 1);
  if (a >= 10 ** digits) return Math.round(v).toString();
  return Number(v.toPrecision(digits)).toString();
}

export type Column = {
  key: string;
  label: string;
  /** 'length' and 'area' are converted with the calibration; 'none' is shown as is. */
  kind: 'length' | 'area' | 'none' | 'id' | 'status';
  get: (p: Particle) => number | string;
  title: string;
};

export const COLUMNS: readonly Column[] = [
  { key: 'id', label: '#', kind: 'id', get: (p) => p.id, title: 'Particle id (label value)' },
  { key: 'ecd', label: 'ECD', kind: 'length', get: (p) => p.ecd, title: 'Equivalent circle diameter' },
  { key: 'area', label: 'Area', kind: 'area', get: (p) => p.area, title: 'Area' },
  {
    key: 'feretMax',
    label: 'Feret max',
    kind: 'length',
    get: (p) => p.feretMax,
    title: 'Maximum Feret diameter',
  },
  {
    key: 'feretMin',
    label: 'Feret min',
    kind: 'length',
    get: (p) => p.feretMin,
    title: 'Minimum Feret diameter',
  },
  { key: 'perimeter', label: 'Perimeter', kind: 'length', get: (p) => p.perimeter, title: 'Perimeter' },
  {
    key: 'circularity',
    label: 'Circ.',
    kind: 'none',
    get: (p) => p.circularity,
    title: 'Circularity 4πA/P²',
  },
  {
    key: 'aspectRatio',
    label: 'AR',
    kind: 'none',
    get: (p) => p.aspectRatio,
    title: 'Aspect ratio of the fitted ellipse',
  },
  {
    key: 'solidity',
    label: 'Solidity',
    kind: 'none',
    get: (p) => p.solidity,
    title: 'Area / convex hull area',
  },
  {
    key: 'feretAngle',
    label: 'Angle',
    kind: 'none',
    get: (p) => p.feretAngle,
    title: 'Feret angle (degrees)',
  },
  { key: 'x', label: 'x', kind: 'none', get: (p) => p.x, title: 'Centroid x (px)' },
  { key: 'y', label: 'y', kind: 'none', get: (p) => p.y, title: 'Centroid y (px)' },
  {
    key: 'excluded',
    label: 'Status',
    kind: 'status',
    get: (p) => p.excluded ?? '',
    title: 'Included, or why the particle is left out of statistics',
  },
];

/** A column's value in display units. */
export function columnValue(c: Column, p: Particle, k: number): number | string {
  const v = c.get(p);
  if (typeof v !== 'number') return v;
  if (c.kind === 'length') return v * k;
  if (c.kind === 'area') return v * k * k;
  return v;
}

export function columnUnit(c: Column, unit: LengthUnit): string {
  if (c.kind === 'length') return unitLabel(unit);
  if (c.kind === 'area') return `${unitLabel(unit)}²`;
  if (c.key === 'feretAngle') return '°';
  if (c.key === 'x' || c.key === 'y') return 'px';
  return '';
}

export const EXCLUDED_TEXT: Record<'edge' | 'small', string> = {
  edge: 'touches edge',
  small: 'below minimum area',
};
