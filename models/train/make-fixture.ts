/**
 * Writes the committed model-test fixture with the project's synthetic generator (src/core/synth):
 * tests/fixtures/model-fixture.png (8-bit grey micrograph) and tests/fixtures/model-fixture-truth.png
 * (16-bit instance labels). Committed rather than generated in the test so that later changes to the
 * generator cannot silently move the test's expectations.
 *
 * usage: npx tsx models/train/make-fixture.ts
 */
import { writeFileSync } from 'node:fs';
import { encode } from 'fast-png';
import { generateSynthetic } from '../../src/core/synth/index';

const s = generateSynthetic({
  seed: 20261124,
  width: 320,
  height: 256,
  modality: 'sem',
  medianDiameter: 22,
  sizeSigma: 0.25,
  coverage: 0.35,
  arrangement: 'agglomerated',
  shapes: ['sphere', 'ellipse', 'blob'],
  banner: false,
  imageScaleBar: false,
  panelLabel: false,
  jpeg: false,
});
if (s.image.channels !== 1 || s.image.bitDepth !== 8) throw new Error('expected an 8-bit grey image');
const { width, height } = s.image;
writeFileSync(
  'tests/fixtures/model-fixture.png',
  encode({ width, height, data: s.image.data as Uint8Array, depth: 8, channels: 1 }),
);
const lab = new Uint16Array(width * height);
for (let i = 0; i < lab.length; i++) lab[i] = s.instances.data[i];
writeFileSync('tests/fixtures/model-fixture-truth.png', encode({ width, height, data: lab, depth: 16, channels: 1 }));
console.log(JSON.stringify({ width, height, count: s.truth.count, insideCount: s.truth.insideCount }));
