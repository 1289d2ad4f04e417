/**
 * Size values for the histogram and statistics panel, gathered over one or more analyses in one common
 * unit. Only included particles count (as in the CSV exports). Images without a pixel size cannot be
 * pooled with calibrated ones: they are left out and named, rather than mixing px with nm.
 */
import type { Calibration, LengthUnit, Particle } from '../../../core/types';
import { convertLength, includedParticles, pooledUnit, unitScale } from '../../../core/units';

export type Metric = 'ecd' | 'feretMax' | 'feretMin' | 'area';
export type Weighting = 'number' | 'area';
export type Scope = 'image' | 'pooled';

export const METRICS: readonly { id: Metric; label: string; axis: string }[] = [
  { id: 'ecd', label: 'ECD', axis: 'Equivalent circle diameter' },
  { id: 'feretMax', label: 'Feret max', axis: 'Maximum Feret diameter' },
  { id: 'feretMin', label: 'Feret min', axis: 'Minimum Feret diameter' },
  { id: 'area', label: 'Area', axis: 'Area' },
];

/** What the views need of an analysis (an ImageAnalysis fits). */
export interface AnalysisLike {
  name: string;
  particles: Particle[];
  calibration: Calibration;
}

export interface SeriesValues {
  name: string;
  /** Metric in `unit` (area in unit²). */
  values: Float64Array;
  /** Particle areas in unit² (for area weighting). */
  areas: Float64Array;
}

export interface CollectedValues {
  unit: LengthUnit;
  series: SeriesValues[];
  /** Images left out because their unit cannot be combined with the others'. */
  skipped: string[];
}

/** The unit all series are reported in: the most common calibrated unit, px only when none is calibrated. */
export function commonUnit(list: readonly AnalysisLike[]): LengthUnit {
  return pooledUnit(list.map((a) => unitScale(a.calibration).unit));
}

export function collectValues(list: readonly AnalysisLike[], metric: Metric): CollectedValues {
  const unit = commonUnit(list);
  const series: SeriesValues[] = [];
  const skipped: string[] = [];
  for (const a of list) {
    const { scale, unit: u } = unitScale(a.calibration);
    if ((u === 'px') !== (unit === 'px')) {
      skipped.push(a.name);
      continue;
    }
    // Pixel -> common unit in one factor (nm <-> µm where the images differ).
    const k = u === 'px' ? 1 : convertLength(scale, u, unit);
    const inc = includedParticles(a.particles);
    const values = new Float64Array(inc.length);
    const areas = new Float64Array(inc.length);
    const f = metric === 'area' ? k * k : k;
    for (let i = 0; i < inc.length; i++) {
      values[i] = inc[i][metric] * f;
      areas[i] = inc[i].area * k * k;
    }
    series.push({ name: a.name, values, areas });
  }
  return { unit, series, skipped };
}

/** All series joined (pooled). */
export function pooled(c: CollectedValues): SeriesValues {
  let n = 0;
  for (const s of c.series) n += s.values.length;
  const values = new Float64Array(n);
  const areas = new Float64Array(n);
  let o = 0;
  for (const s of c.series) {
    values.set(s.values, o);
    areas.set(s.areas, o);
    o += s.values.length;
  }
  return { name: 'pooled', values, areas };
}

/** Log-normal fit of weighted values: weighted mean and (population) sd of ln v over v > 0. */
export function weightedLognormal(
  values: ArrayLike<number>,
  weights: ArrayLike<number>,
): { mu: number; sigma: number } {
  let sw = 0;
  let sl = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > 0 && weights[i] > 0) {
      sw += weights[i];
      sl += weights[i] * Math.log(values[i]);
    }
  }
  if (!(sw > 0)) return { mu: NaN, sigma: NaN };
  const mu = sl / sw;
  let ss = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > 0 && weights[i] > 0) ss += weights[i] * (Math.log(values[i]) - mu) ** 2;
  }
  return { mu, sigma: Math.sqrt(ss / sw) };
}
