/**
 * The core promise: drop images, get the right number of particles, take the CSV away. Three synthetic
 * micrographs with known truth (SEM and TEM styles) go in through the file input as a user's drop would.
 */
import { parseCsv } from '../src/core/export/csv';
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
import { COUNT_IMAGES } from './synthetic';

/** The CLI contract (DESIGN.md), spelled out here so a drift in the exporter fails this test. */
const PARTICLES_HEADER =
  'image,particle,x,y,area,ecd,perimeter,feret_max,feret_min,feret_angle,circularity,aspect_ratio,solidity,touches_edge,unit,area_unit,xy_unit,angle_unit';
const SUMMARY_HEADER =
  'image,width,height,pixel_size,unit,pixel_size_source,count,mean_ecd,median_ecd,std_ecd,d10,d50,d90,seconds,note';

const images = COUNT_IMAGES();

test('three synthetic images: counts within 5 % of the truth, and particles.csv follows the contract', async ({
  page,
}) => {
  await openApp(page);
  await dropFiles(page, images);
  await waitSettled(page, 3);
  // The batch bar is full, drawn by a transform with no transition: an animated width re-laid-out and repainted
  // the whole page every frame of a batch, on the cores the network needs.
  const bar = page.getByTestId('batch-progress');
  await expect(bar).toHaveAttribute('aria-valuenow', '100');
  const fill = await bar.locator('.fill').evaluate((el) => {
    const s = getComputedStyle(el);
    return {
      transform: s.transform,
      transition: s.transitionDuration,
      width: el.getBoundingClientRect().width,
    };
  });
  expect(fill.transform).toBe('matrix(1, 0, 0, 1, 0, 0)');
  expect(fill.transition).toBe('0s');
  expect(fill.width).toBeGreaterThan(0);

  // The second and third images were prepared ahead (decoded, calibrated and normalised by the prepare worker
  // while the one before was post-processed): the counts below are of that path too.
  const timings = await page.evaluate(() =>
    (window as unknown as { __saemi: { timings(): Record<string, number>[] } }).__saemi.timings(),
  );
  expect(timings.map((t) => 'ahead' in t)).toEqual([false, true, true]);

  let total = 0;
  for (const img of images) {
    const n = await rowCount(page, img.name);
    expect(
      Math.abs(n - img.truth) / img.truth,
      `${img.name}: found ${n}, truth ${img.truth}`,
    ).toBeLessThanOrEqual(0.05);
    total += n;
    // Where the image's time went, per stage, from the worker's own marks.
    await expect(row(page, img.name).getByTestId('row-timing')).toHaveAttribute(
      'title',
      /decode [\d.]+ ms .*calibrate [\d.]+ ms .*network [\d.]+ ms .*measure [\d.]+ ms .*total [\d.]+ ms/,
    );
  }

  await page.getByTestId('tab-export').click();
  const particles = await downloadText(page, () => page.getByTestId('export-particles').click());
  // Named by what it holds: the batch's table, not one image's.
  expect(particles.name).toBe('batch-3-images-particles.csv');
  const rows = parseCsv(particles.text.trimEnd());
  expect(rows[0].join(',')).toBe(PARTICLES_HEADER);
  expect(rows.length - 1).toBe(total);
  for (const img of images) {
    const mine = rows.filter((r) => r[0] === img.name);
    expect(mine.length).toBe(await rowCount(page, img.name));
    // particle ids are the label values, unique per image
    expect(new Set(mine.map((r) => r[1])).size).toBe(mine.length);
    for (const r of mine) {
      expect(r).toHaveLength(18);
      expect(Number(r[4])).toBeGreaterThan(0);
      expect(['0', '1']).toContain(r[13]);
    }
  }

  const summary = await downloadText(page, () => page.getByTestId('export-summary').click());
  expect(summary.name).toBe('batch-3-images-summary.csv');
  const srows = parseCsv(summary.text.trimEnd());
  expect(srows[0].join(',')).toBe(SUMMARY_HEADER);
  expect(srows.map((r) => r[0])).toEqual(['image', ...images.map((i) => i.name), '*']);
  expect(Number(srows[4][6])).toBe(total);

  // The overlay PNG of the selected image has the micrograph's size.
  await row(page, images[1].name).click();
  const overlay = await downloadBytes(page, () => page.getByTestId('export-overlay').click());
  expect(overlay.name).toBe('tem-b-overlay.png');
  expect(overlay.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(overlay.bytes.readUInt32BE(16)).toBe(640);
  expect(overlay.bytes.readUInt32BE(20)).toBe(480);
});
