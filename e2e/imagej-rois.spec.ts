/**
 * ImageJ interop as a user meets it: two synthetic micrographs analysed, each one's particles downloaded as an
 * ImageJ ROI set, and every entry read back as ImageJ reads a polygon ROI: one per particle of the image's
 * particles.csv, named by its id, its outline enclosing the particle's area and giving its perimeter.
 */
import { encode as encodePng } from 'fast-png';
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

test('a label image imported for an image is measured in place of its segmentation, and undone', async ({
  page,
}) => {
  const img = synthPng('labels-in.png', { seed: 13, modality: 'sem' });
  await openApp(page);
  await dropFiles(page, [img]);
  await waitSettled(page, 1);
  const found = await rowCount(page, img.name);
  expect(found).toBeGreaterThan(10);
  await row(page, img.name).click();
  await page.getByTestId('tab-export').click();

  // Ids 3, 7 and 12: a 10x6 rectangle, a 4x4 square and a 20x1 line, away from the edges.
  const [w, h] = [640, 480];
  const lab = new Uint16Array(w * h);
  const box = (id: number, x0: number, y0: number, bw: number, bh: number) => {
    for (let y = y0; y < y0 + bh; y++) for (let x = x0; x < x0 + bw; x++) lab[y * w + x] = id;
  };
  box(3, 100, 100, 10, 6);
  box(7, 300, 200, 4, 4);
  box(12, 400, 400, 20, 1);
  const png = (width: number, height: number, data: Uint16Array) =>
    Buffer.from(encodePng({ width, height, data, depth: 16, channels: 1 }));
  await page
    .getByTestId('labels-input')
    .setInputFiles({ name: 'mask.png', mimeType: 'image/png', buffer: png(w, h, lab) });
  await expect(row(page, img.name)).toHaveAttribute('data-count', '3');
  const csv = parseCsvRecords(
    (await downloadText(page, () => page.getByTestId('export-particles-one').click())).text,
  );
  expect(csv.map((p) => Number(p.area)).sort((a, b) => a - b)).toEqual([16, 20, 60]);

  // A label image of another size is refused by name; the labels stay as they were.
  await page.getByTestId('labels-input').setInputFiles({
    name: 'small.png',
    mimeType: 'image/png',
    buffer: png(w - 1, h, new Uint16Array((w - 1) * h)),
  });
  await expect(page.getByTestId('toast')).toContainText(
    'small.png: label image is 639x480 px, the micrograph 640x480 px: they must match',
  );
  await expect(row(page, img.name)).toHaveAttribute('data-count', '3');

  // One undoable edit: undo brings the segmentation back.
  await page.keyboard.press('Control+z');
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(found));
});
