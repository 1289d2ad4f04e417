/**
 * Scale-bar reading success rate on a varied synthetic set (lengths, values, units and spellings, font scales
 * 1-3, bold, bar styles and polarities, banner/image/boxed placement, label position, noise). A case succeeds
 * when the bar length is within 1 px and the value and unit are read exactly. The rate is printed and must
 * stay at or above the floor below.
 */
import { describe, expect, it } from 'vitest';
import { detectBanner } from '../src/core/calibrate/banner';
import { findScaleBar } from '../src/core/calibrate/scalebar';
import { makeScene, rateCase as caseSpec } from './calibrate-scene';

const N = 100;
const FLOOR = 0.9;

describe('scale-bar reading success rate', () => {
  it(`reads >= ${FLOOR * 100}% of ${N} varied synthetic cases`, () => {
    let ok = 0;
    let lengthOk = 0;
    const failures: string[] = [];
    for (let i = 0; i < N; i++) {
      const { spec, value, unit } = caseSpec(i);
      const s = makeScene(spec);
      const bands = detectBanner(s.grey, { integerValued: true });
      const rd = findScaleBar(s.grey, { bands });
      const t = s.truth.bar!;
      const lenGood = rd !== null && Math.abs(rd.lengthPx - t.lengthPx) <= 1;
      if (lenGood) lengthOk++;
      if (lenGood && rd.value !== undefined && Math.abs(rd.value - value) < 1e-9 && rd.unit === unit) ok++;
      else
        failures.push(
          `#${i} ${spec.bar!.label} ${spec.bar!.where}${spec.bar!.box ? '+box' : ''} ${spec.bar!.style} ${spec.bar!.polarity} ` +
            `s${spec.bar!.scale} len ${t.lengthPx} -> ${rd ? `${rd.lengthPx} "${rd.text ?? ''}" ${rd.value} ${rd.unit}` : 'none'}`,
        );
    }
    const rate = ok / N;
    console.log(
      JSON.stringify({ bench: 'scalebar-read', cases: N, success: rate, lengthWithin1px: lengthOk / N }),
    );
    if (failures.length) console.log(failures.join('\n'));
    expect(rate).toBeGreaterThanOrEqual(FLOOR);
  });
});
