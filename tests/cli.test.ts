import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { synthPng } from '../e2e/synthetic';
import { discs } from './helpers/cli';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'saemi.js');

const PARTICLES_HEADER =
  'image,particle,x,y,area,ecd,perimeter,feret_max,feret_min,feret_angle,circularity,aspect_ratio,solidity,touches_edge,unit,area_unit,xy_unit,angle_unit';
const SUMMARY_HEADER =
  'image,width,height,pixel_size,unit,pixel_size_source,count,mean_ecd,median_ecd,std_ecd,d10,d50,d90,seconds,note';

/** Minimal little-endian baseline TIFF: one uncompressed strip of 16-bit grey. */
function tiff16(w: number, h: number, px: number[]): Uint8Array {
  const entries: Array<[tag: number, type: number, value: number]> = [
    [256, 3, w],
    [257, 3, h],
    [258, 3, 16],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 0], // strip offset, patched below
    [277, 3, 1],
    [278, 3, h],
    [279, 4, w * h * 2],
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const dataOffset = 8 + ifdSize;
  const buf = new ArrayBuffer(dataOffset + w * h * 2);
  const dv = new DataView(buf);
  dv.setUint8(0, 0x49);
  dv.setUint8(1, 0x49);
  dv.setUint16(2, 42, true);
  dv.setUint32(4, 8, true);
  dv.setUint16(8, entries.length, true);
  entries.forEach(([tag, type, value], k) => {
    const o = 10 + k * 12;
    dv.setUint16(o, tag, true);
    dv.setUint16(o + 2, type, true);
    dv.setUint32(o + 4, 1, true);
    const v = tag === 273 ? dataOffset : value;
    if (type === 3) dv.setUint16(o + 8, v, true);
    else dv.setUint32(o + 8, v, true);
  });
  dv.setUint32(10 + entries.length * 12, 0, true);
  for (let i = 0; i < w * h; i++) dv.setUint16(dataOffset + i * 2, px[i], true);
  return new Uint8Array(buf);
}

const SCENE: Array<[number, number, number]> = [
  [30, 30, 10],
  [90, 35, 12],
  [150, 30, 9],
  [40, 90, 11],
  [110, 95, 14],
  [160, 100, 8],
];
const SIZES: Record<string, [number, number]> = {
  'a.png': [200, 130],
  'b.jpg': [201, 131],
  'c16.tif': [203, 129],
  'sub/d.png': [190, 140],
};

let dir: string;
let inDir: string;

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'saemi-cli-'));
  inDir = path.join(dir, 'in');
  mkdirSync(path.join(inDir, 'sub'), { recursive: true });
  {
    const [w, h] = SIZES['a.png'];
    const px = discs(w, h, SCENE, 50, 210);
    writeFileSync(
      path.join(inDir, 'a.png'),
      encodePng({ width: w, height: h, data: Uint8Array.from(px), depth: 8, channels: 1 }),
    );
  }
  {
    const [w, h] = SIZES['b.jpg'];
    const px = discs(w, h, SCENE, 50, 210);
    const rgba = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      rgba.fill(px[i], i * 4, i * 4 + 3);
      rgba[i * 4 + 3] = 255;
    }
    writeFileSync(path.join(inDir, 'b.jpg'), jpeg.encode({ data: rgba, width: w, height: h }, 92).data);
  }
  {
    const [w, h] = SIZES['c16.tif'];
    writeFileSync(path.join(inDir, 'c16.tif'), tiff16(w, h, discs(w, h, SCENE, 9000, 52000)));
  }
  {
    const [w, h] = SIZES['sub/d.png'];
    const px = discs(w, h, SCENE, 200, 40); // bright particles on dark ground
    writeFileSync(
      path.join(inDir, 'sub', 'd.png'),
      encodePng({ width: w, height: h, data: Uint8Array.from(px), depth: 8, channels: 1 }),
    );
  }
  writeFileSync(path.join(inDir, 'notes.png'), 'this is not an image\n');
  const good = readFileSync(path.join(inDir, 'a.png'));
  writeFileSync(path.join(inDir, 'trunc.png'), good.subarray(0, Math.floor(good.length / 2)));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('saemi analyze (threshold method)', () => {
  it('prints help', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/saemi analyze INPUT\.\.\. --out DIR/);
    expect(r.stdout).toMatch(/--pixel-size/);
  });

  it('analyses a folder of PNG, JPEG and 16-bit TIFF; reports the bad files and still writes the good ones', () => {
    const out = path.join(dir, 'out1');
    const r = run(['analyze', inDir, '--out', out, '--method', 'threshold', '--min-area', '20']);
    expect(r.code).toBe(1);
    const errLines = r.stderr.split('\n');
    expect(errLines.filter((l) => l.includes('notes.png') && /error/.test(l))).toHaveLength(1);
    expect(errLines.filter((l) => l.includes('trunc.png') && /error/.test(l))).toHaveLength(1);
    expect(r.stderr).toMatch(/\[\d+\/6\] a\.png: 6 particles, no pixel size \(sizes in px\), \d+\.\d\d s/);

    const particles = readFileSync(path.join(out, 'particles.csv'), 'utf8').trim().split(/\r?\n/);
    expect(particles[0]).toBe(PARTICLES_HEADER);
    const summary = readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split(/\r?\n/);
    expect(summary[0]).toBe(SUMMARY_HEADER);
    const rows = summary.slice(1).map((l) => l.split(','));
    const names = rows.map((c) => c[0]);
    expect(names.sort()).toEqual(['*', 'a.png', 'b.jpg', 'c16.tif', 'sub/d.png']);
    for (const c of rows) if (c[0] !== '*') expect(Number(c[6])).toBe(SCENE.length);
    const pooled = rows.find((c) => c[0] === '*')!;
    expect(Number(pooled[6])).toBe(4 * SCENE.length);
    expect(particles.length - 1).toBe(4 * SCENE.length);

    for (const [name, [w, h]] of Object.entries(SIZES)) {
      const file = path.join(out, 'labels', name.replace(/\.[^.]+$/, '') + '.png');
      expect(existsSync(file), file).toBe(true);
      const png = decodePng(readFileSync(file));
      expect([png.width, png.height, png.depth, png.channels]).toEqual([w, h, 16, 1]);
      const ids = new Set<number>();
      for (const v of png.data as Uint16Array) if (v) ids.add(v);
      expect(ids.size).toBe(SCENE.length);
    }
    expect(existsSync(path.join(out, 'labels', 'notes.png'))).toBe(false);
  });

  it('exits 0 when every input is fine; pixel size override gives nm; --json summary on stdout', () => {
    const out = path.join(dir, 'out2');
    const r = run([
      'analyze',
      path.join(inDir, 'a.png'),
      path.join(inDir, 'c16.tif'),
      '--out',
      out,
      '--method',
      'threshold',
      '--pixel-size',
      '2',
      '--unit',
      'nm',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      images: Array<Record<string, unknown>>;
      pooled: Record<string, unknown>;
    };
    expect(j.images.map((i) => i.image)).toEqual(['a.png', 'c16.tif']);
    expect(j.images[0]).toMatchObject({
      width: 200,
      height: 130,
      pixel_size: 2,
      unit: 'nm',
      pixel_size_source: 'manual',
      count: 6,
    });
    expect(j.pooled).toMatchObject({ image: '*', count: 12 });
    const particles = readFileSync(path.join(out, 'particles.csv'), 'utf8').trim().split(/\r?\n/).slice(1);
    // Disc of radius 14 at (110, 95): ecd about 28 px = 56 nm.
    const big = particles
      .map((l) => l.split(','))
      .find((c) => c[0] === 'a.png' && Math.abs(Number(c[2]) - 110.5) < 1)!;
    expect(Math.abs(Number(big[5]) - 56)).toBeLessThan(2);
    expect(big[14]).toBe('nm');
  });

  it('rejects usage errors with exit 2 and a clear line', () => {
    const r = run(['analyze', path.join(inDir, 'a.png'), '--out', path.join(dir, 'x'), '--min-area', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--min-area must be a whole number/);
    const r2 = run(['analyze', path.join(inDir, 'a.png'), '--out', path.join(dir, 'x'), '--bogus']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/unknown option --bogus/);
  });

  it('--thorough: ignored with a warning by the threshold method; the model method runs it', () => {
    const analyseA = (out: string, ...extra: string[]) =>
      run(['analyze', path.join(inDir, 'a.png'), '--out', path.join(dir, out), ...extra]);
    const count = (out: string) =>
      Number(
        readFileSync(path.join(dir, out, 'summary.csv'), 'utf8')
          .split(/\r?\n/)[1]
          .split(',')[6],
      );
    const r = analyseA('t1', '--method', 'threshold', '--thorough');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: --thorough is ignored with --method threshold/);
    const plain = analyseA('t2', '--threads', '1');
    const thorough = analyseA('t3', '--threads', '1', '--thorough');
    expect(plain.code).toBe(0);
    expect(thorough.code).toBe(0);
    expect(thorough.stderr).not.toMatch(/warning: --thorough/);
    // clean, well separated discs: the mirrored views agree on every particle
    expect(count('t3')).toBe(count('t2'));
    expect(count('t2')).toBeGreaterThan(5);
  });

  it('--mixed-contrast keeps the dark pits that the model method otherwise drops from a bright-particle SEM image', () => {
    const img = synthPng('pits.png', { seed: 47, modality: 'sem' }, { darkPits: 10 });
    const pitsDir = path.join(dir, 'pits-in');
    mkdirSync(pitsDir, { recursive: true });
    writeFileSync(path.join(pitsDir, img.name), img.buffer);
    const count = (out: string) =>
      Number(readFileSync(path.join(out, 'summary.csv'), 'utf8').split(/\r?\n/)[1].split(',')[6]);
    const one = path.join(dir, 'pits-one');
    const both = path.join(dir, 'pits-both');
    const r1 = run(['analyze', pitsDir, '--out', one, '--threads', '1']);
    const r2 = run(['analyze', pitsDir, '--out', both, '--threads', '1', '--mixed-contrast']);
    expect(r1.code).toBe(0);
    expect(r2.code).toBe(0);
    expect(r1.stderr).toMatch(
      /detections darker than the surroundings dropped: the particles here are brighter/,
    );
    expect(r2.stderr).not.toMatch(/dropped/);
    expect(Math.abs(count(one) - img.truth) / img.truth).toBeLessThanOrEqual(0.05);
    expect(count(both) - count(one)).toBeGreaterThanOrEqual(8);
    const t = run([
      'analyze',
      pitsDir,
      '--out',
      path.join(dir, 'pits-t'),
      '--method',
      'threshold',
      '--mixed-contrast',
    ]);
    expect(t.stderr).toMatch(/warning: --mixed-contrast is ignored with --method threshold/);
  });

  it('model method without a model file says so instead of falling back silently', () => {
    const r = run([
      'analyze',
      path.join(inDir, 'a.png'),
      '--out',
      path.join(dir, 'y'),
      '--model',
      path.join(dir, 'none.json'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read model sidecar/);
  });

  it('a sidecar with an impossible resampling target is refused by name', () => {
    const sidecar = JSON.parse(readFileSync(path.join(ROOT, 'models', 'saemi-unet.json'), 'utf8'));
    sidecar.resampleTargetPx = -5;
    const p = path.join(dir, 'bad-target.json');
    writeFileSync(p, JSON.stringify(sidecar));
    const r = run(['analyze', path.join(inDir, 'a.png'), '--out', path.join(dir, 'z'), '--model', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/resampleTargetPx must be > 0/);
  });
});

describe('saemi analyze with the bundled model', () => {
  // models/saemi-unet.json + .onnx are committed with the repository (H4); this runs the shipped CLI path:
  // sidecar + sha256 check, onnxruntime (native when it loads, and WASM), tiles, instances, outputs.
  for (const backend of ['auto', 'wasm']) {
    it(`segments clean discs with --backend ${backend}`, () => {
      const out = path.join(dir, `model-${backend}`);
      const r = run([
        'analyze',
        path.join(inDir, 'a.png'),
        '--out',
        out,
        '--backend',
        backend,
        '--threads',
        '1',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        new RegExp(`model saemi-unet \\S+ on ${backend === 'wasm' ? 'wasm' : '(node-native|wasm)'}`),
      );
      expect(r.stderr).not.toMatch(/sha256/);
      const summary = readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split(/\r?\n/);
      expect(summary[0]).toBe(SUMMARY_HEADER);
      const row = summary.find((l) => l.startsWith('a.png,'))!.split(',');
      expect(Number(row[6])).toBeGreaterThanOrEqual(SCENE.length - 1);
      expect(Number(row[6])).toBeLessThanOrEqual(SCENE.length + 1);
      const png = decodePng(readFileSync(path.join(out, 'labels', 'a.png')));
      expect([png.width, png.height, png.depth]).toEqual([...SIZES['a.png'], 16]);
    });
  }

  it('--precision picks the weights file; --json and the run manifest say which one segmented', () => {
    const sidecar = JSON.parse(readFileSync(path.join(ROOT, 'models', 'saemi-unet.json'), 'utf8'));
    const int8 = sidecar.variants.find((v: { precision: string }) => v.precision === 'int8');
    const img = path.join(inDir, 'a.png');
    const use = (extra: string[]) => {
      const out = path.join(dir, `precision-${extra.join('')}`);
      const r = run([
        'analyze',
        img,
        '--out',
        out,
        '--json',
        '--backend',
        'wasm',
        '--threads',
        '1',
        ...extra,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout);
      const header = JSON.parse(readFileSync(path.join(out, 'run-manifest.jsonl'), 'utf8').split('\n')[0]);
      return { r, json, manifest: header.fingerprint.model };
    };
    // auto on WASM: the sidecar prefers the int8 variant there
    const auto = use([]);
    expect(auto.json.model).toEqual({
      name: 'saemi-unet',
      version: sidecar.version,
      sha256: int8.sha256,
      backend: 'wasm',
      file: 'saemi-unet-int8.onnx',
      precision: 'int8',
    });
    expect(auto.r.stderr).toContain('on wasm (int8, saemi-unet-int8.onnx)');
    expect(auto.manifest).toMatchObject({
      sha256: int8.sha256,
      precision: 'int8',
      file: 'saemi-unet-int8.onnx',
    });
    expect(auto.json.images[0].count).toBeGreaterThanOrEqual(SCENE.length - 1);
    const fp32 = use(['--precision', 'fp32']);
    expect(fp32.json.model).toMatchObject({
      sha256: sidecar.sha256,
      file: 'saemi-unet.onnx',
      precision: 'fp32',
    });
    expect(fp32.manifest).toMatchObject({ sha256: sidecar.sha256, precision: 'fp32' });
    expect(fp32.json.images[0].count).toBeGreaterThanOrEqual(SCENE.length - 1);

    // A model folder without the int8 file: auto says so and runs fp32; an explicit int8 refuses.
    const m = path.join(dir, 'no-int8');
    mkdirSync(m, { recursive: true });
    copyFileSync(path.join(ROOT, 'models', 'saemi-unet.json'), path.join(m, 'saemi-unet.json'));
    copyFileSync(path.join(ROOT, 'models', 'saemi-unet.onnx'), path.join(m, 'saemi-unet.onnx'));
    const model = ['--model', path.join(m, 'saemi-unet.json')];
    const fallback = use(model);
    expect(fallback.r.stderr).toMatch(
      /warning: int8 model saemi-unet-int8\.onnx not used, it cannot be read \(cannot read model weights .*\): fp32 saemi-unet\.onnx instead/,
    );
    expect(fallback.json.model).toMatchObject({ precision: 'fp32', sha256: sidecar.sha256 });
    const refused = run(['analyze', img, '--json', '--backend', 'wasm', ...model, '--precision', 'int8']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/saemi analyze: int8 model saemi-unet-int8\.onnx: it cannot be read/);
    const bad = run(['analyze', img, '--json', '--precision', 'fp16']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--precision must be auto, fp32 or int8, not "fp16"');
  });
});
