import type { Calibration, LengthUnit, Particle } from './types';

/** A particle's measurements in the calibration's unit (area in unit^2); centroid stays in pixels. */
export type ParticleInUnits = Omit<Particle, 'bbox' | 'excluded'> & { unit: LengthUnit };

/** Length of one pixel in the reported unit: the pixel size when calibrated, else 1 px. */
export function unitScale(cal: Calibration): { scale: number; unit: LengthUnit } {
  if (cal.pixelSize == null || !(cal.pixelSize > 0) || cal.unit === 'px') return { scale: 1, unit: 'px' };
  return { scale: cal.pixelSize, unit: cal.unit };
}

export function toUnits(p: Particle, cal: Calibration): ParticleInUnits {
  const { scale: k, unit } = unitScale(cal);
  return {
    id: p.id,
    x: p.x,
    y: p.y,
    area: p.area * k * k,
    ecd: p.ecd * k,
    perimeter: p.perimeter * k,
    feretMax: p.feretMax * k,
    feretMin: p.feretMin * k,
    feretAngle: p.feretAngle,
    circularity: p.circularity,
    aspectRatio: p.aspectRatio,
    solidity: p.solidity,
    touchesEdge: p.touchesEdge,
    unit,
  };
}

export type SizeMetric = 'ecd' | 'feretMax' | 'feretMin' | 'perimeter' | 'area';

/** Particles that count in statistics and exports. */
export function includedParticles(list: Particle[]): Particle[] {
  return list.filter((p) => p.excluded === null);
}

/** One metric of the included particles in the calibration's unit (area in unit^2). */
export function metricValues(list: Particle[], cal: Calibration, metric: SizeMetric): Float64Array {
  const { scale: k } = unitScale(cal);
  const f = metric === 'area' ? k * k : k;
  const inc = includedParticles(list);
  const out = new Float64Array(inc.length);
  for (let i = 0; i < inc.length; i++) out[i] = inc[i][metric] * f;
  return out;
}

/**
 * The one unit a set of images is pooled in: the most common calibrated unit (nm on a tie), px only when no
 * image is calibrated. Uncalibrated images cannot join calibrated ones (px and nm do not mix) and are left
 * out of pooled size statistics; the app's views and summary.csv's pooled row both follow this.
 */
export function pooledUnit(units: readonly LengthUnit[]): LengthUnit {
  let nm = 0;
  let um = 0;
  for (const u of units) {
    if (u === 'nm') nm++;
    else if (u === 'um') um++;
  }
  if (nm === 0 && um === 0) return 'px';
  return um > nm ? 'um' : 'nm';
}

const NM_PER: Record<'nm' | 'um', number> = { nm: 1, um: 1000 };

/** Converts a length between physical units; px converts only to px. */
export function convertLength(value: number, from: LengthUnit, to: LengthUnit): number {
  if (from === to) return value;
  if (from === 'px' || to === 'px')
    throw new RangeError(`cannot convert ${from} to ${to} without a pixel size`);
  return (value * NM_PER[from]) / NM_PER[to];
}

/** The unit as shown to people (µm rather than the ASCII um used in files). */
export function displayUnit(unit: LengthUnit): string {
  return unit === 'um' ? 'µm' : unit;
}
