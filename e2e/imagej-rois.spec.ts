/**
 * ImageJ interop as a user meets it: two synthetic micrographs analysed, each one's particles downloaded as an
 * ImageJ ROI set, and every entry read back as ImageJ reads a polygon ROI: one per particle of the image's
 * particles.csv, named by its id, its outline enclosing the particle's area and giving its perimeter.
 */
import { parseCsvRecords } from '../src/core/export/csv';
import { polygonArea, readRoiSet, tracedPerimeter } from '../tests/helpers/imagej-roi-reader';
import {
  downloadBytes,
  downloadText,
  dropFiles,
  expect,
  openApp,
  row,
  rowCount,
  test,
  waitSettled,
} from './fixtures';
import { synthPng } from './synthetic';

test('the ROI set of each of two images parses as ImageJ polygons matching its particles', async ({
  page,
}) => {
  const images = [
    synthPng('rois-sem.png', { seed: 11, modality: 'sem' }),
    synthPng('rois-tem.png', { seed: 12, modality: 'tem' }),
  ];
  await openApp(page);
  await dropFiles(page, images);
  await waitSettled(page, 2);
  await page.getByTestId('tab-export').click();
  for (const img of images) {
    await row(page, img.name).click();
    const n = await rowCount(page, img.name);
    expect(n).toBeGreaterThan(10);
    const zip = await downloadBytes(page, () => page.getByTestId('export-rois').click());
    expect(zip.name).toBe(img.name.replace('.png', '-RoiSet.zip'));
    const rois = readRoiSet(new Uint8Array(zip.bytes));
    expect(rois).toHaveLength(n);

    const csv = await downloadText(page, () => page.getByTestId('export-particles-one').click());
    const particles = parseCsvRecords(csv.text);
    expect(particles).toHaveLength(n);
    const summary = parseCsvRecords(
      (await downloadText(page, () => page.getByTestId('export-summary').click())).text,
    );
    const mine = summary.find((s) => s.image === img.name)!;
    const px = mine.unit === 'px' ? 1 : Number(mine.pixel_size);
    for (const p of particles) {
      const roi = rois.find((r) => Number(r.name.split('-')[0]) === Number(p.particle));
      expect(roi, `${img.name} particle ${p.particle}`).toBeDefined();
      expect(roi!.type).toBe(0);
      const { xs, ys } = roi!;
      // A closed outline along pixel edges: sides alternate between horizontal and vertical.
      expect(xs.length % 2).toBe(0);
      expect(xs.length).toBeGreaterThanOrEqual(4);
      for (let i = 0; i < xs.length; i++) {
        const j = (i + 1) % xs.length;
        expect((xs[i] === xs[j]) !== (ys[i] === ys[j])).toBe(true);
      }
      expect([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]).toEqual([
        roi!.left,
        roi!.top,
        roi!.right,
        roi!.bottom,
      ]);
      // The vertices are the particle's own outline: its perimeter (ImageJ's traced rule) comes back from
      // them, and its area too (particles here have no holes; at most one pixel's rounding in the CSV).
      expect(Math.abs(tracedPerimeter(xs, ys) * px - Number(p.perimeter))).toBeLessThan(
        1e-4 * Number(p.perimeter) + 1e-9,
      );
      expect(Math.abs(polygonArea(xs, ys) * px * px - Number(p.area))).toBeLessThan(
        1e-4 * Number(p.area) + 1e-9,
      );
    }
  }
});
