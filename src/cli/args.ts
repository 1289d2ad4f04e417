/**
 * Argument parsing for `saemi analyze`. Hand-written (no dependency): a small fixed option set, strict about
 * unknown options and bad values so a typo never silently runs a different analysis.
 */
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../core/types';
import { PRECISION_CHOICES, type PrecisionChoice } from '../core/segment/model-variant';

export type BackendChoice = 'auto' | 'wasm' | 'native';

export interface AnalyzeArgs {
  inputs: string[];
  out: string | null;
  json: boolean;
  modelPath: string | null;
  backend: BackendChoice;
  threads: number | null;
  /** Which weights file of the model: auto (the sidecar's choice for the backend), fp32 or int8. */
  precision: PrecisionChoice;
  options: AnalysisOptions;
  /** Folder of label images to measure instead of segmenting (<stem>.png/.tif per input). */
  labelsIn: string | null;
  /** Also write rois/<stem>.zip, an ImageJ ROI set per image. */
  rois: boolean;
  /** Skip images an earlier run on the same --out finished (run manifest), append the rest. */
  resume: boolean;
  /** Seconds one image may take (read, decode, analyse, encode labels); 0 = no limit. */
  imageTimeout: number;
  help: boolean;
}

export const DEFAULT_IMAGE_TIMEOUT_S = 300;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const FLAGS = new Set([
  '--exclude-edges',
  '--no-split',
  '--watershed',
  '--thorough',
  '--mixed-contrast',
  '--json',
  '--resume',
  '--rois',
  '--help',
  '-h',
]);
const VALUED = new Set([
  '--out',
  '-o',
  '--model',
  '--pixel-size',
  '--unit',
  '--min-area',
  '--method',
  '--threshold',
  '--polarity',
  '--banner',
  '--backend',
  '--threads',
  '--precision',
  '--image-timeout',
  '--labels-in',
]);

export function parseAnalyzeArgs(argv: string[]): AnalyzeArgs {
  const inputs: string[] = [];
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === '--') {
      inputs.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      inputs.push(a);
      continue;
    }
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (FLAGS.has(a)) {
      if (inline !== undefined) throw new UsageError(`${a} takes no value`);
      flags.add(a);
    } else if (VALUED.has(a)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      values.set(a === '-o' ? '--out' : a, v);
    } else {
      throw new UsageError(`unknown option ${a} (see saemi analyze --help)`);
    }
  }

  const help = flags.has('--help') || flags.has('-h');
  const options: AnalysisOptions = { ...DEFAULT_OPTIONS };
  options.split = !flags.has('--no-split');
  options.watershed = flags.has('--watershed');
  options.thorough = flags.has('--thorough');
  options.mixedContrast = flags.has('--mixed-contrast');
  options.excludeEdges = flags.has('--exclude-edges');

  const method = values.get('--method');
  if (method !== undefined && method !== 'model' && method !== 'threshold')
    throw new UsageError(`--method must be model or threshold, not "${method}"`);
  const threshold = values.get('--threshold');
  if (threshold !== undefined) {
    const t = Number(threshold);
    if (!Number.isFinite(t) || t <= 0 || t >= 1)
      throw new UsageError(
        `--threshold must be a number between 0 and 1 (on the normalised grey), not "${threshold}"`,
      );
    if (method === 'model') throw new UsageError('--threshold applies to --method threshold only');
    options.threshold = t;
  }
  // A threshold given without a method can only mean the threshold method.
  options.method =
    (method as AnalysisOptions['method'] | undefined) ?? (threshold !== undefined ? 'threshold' : 'model');

  const polarity = values.get('--polarity');
  if (polarity !== undefined) {
    if (polarity === 'dark') options.darkParticles = true;
    else if (polarity === 'bright') options.darkParticles = false;
    else if (polarity !== 'auto')
      throw new UsageError(`--polarity must be dark, bright or auto, not "${polarity}"`);
  }

  const minArea = values.get('--min-area');
  if (minArea !== undefined) {
    const m = Number(minArea);
    if (!Number.isInteger(m) || m < 0)
      throw new UsageError(`--min-area must be a whole number of pixels, not "${minArea}"`);
    options.minAreaPx = m;
  }

  const ps = values.get('--pixel-size');
  const unit = values.get('--unit');
  if (unit !== undefined && unit !== 'nm' && unit !== 'um' && unit !== 'µm')
    throw new UsageError(`--unit must be nm or um, not "${unit}"`);
  if (ps !== undefined) {
    const v = Number(ps);
    if (!Number.isFinite(v) || v <= 0)
      throw new UsageError(`--pixel-size must be a positive number, not "${ps}"`);
    options.pixelSizeOverride = { pixelSize: v, unit: unit === 'um' || unit === 'µm' ? 'um' : 'nm' };
  } else if (unit !== undefined) {
    throw new UsageError('--unit needs --pixel-size');
  }

  const banner = values.get('--banner');
  if (banner !== undefined) {
    const m = /^(\d+)[:-](\d+)$/.exec(banner);
    if (banner === 'auto' || banner === 'off') options.banner = banner;
    else if (m && Number(m[2]) > Number(m[1])) options.banner = { y0: Number(m[1]), y1: Number(m[2]) };
    else
      throw new UsageError(
        `--banner must be auto, off or ROW0:ROW1 (rows excluded, end exclusive), not "${banner}"`,
      );
  }

  const backend = values.get('--backend') ?? 'auto';
  if (backend !== 'auto' && backend !== 'wasm' && backend !== 'native')
    throw new UsageError(`--backend must be auto, wasm or native, not "${backend}"`);
  const th = values.get('--threads');
  let threads: number | null = null;
  if (th !== undefined) {
    threads = Number(th);
    if (!Number.isInteger(threads) || threads < 1)
      throw new UsageError(`--threads must be a positive whole number, not "${th}"`);
  }

  const precision = (values.get('--precision') ?? 'auto') as PrecisionChoice;
  if (!PRECISION_CHOICES.includes(precision))
    throw new UsageError(`--precision must be auto, fp32 or int8, not "${precision}"`);

  const it = values.get('--image-timeout');
  let imageTimeout = DEFAULT_IMAGE_TIMEOUT_S;
  if (it !== undefined) {
    imageTimeout = Number(it);
    if (it.trim() === '' || !Number.isFinite(imageTimeout) || imageTimeout < 0)
      throw new UsageError(`--image-timeout must be a number of seconds (0 = no limit), not "${it}"`);
  }

  const json = flags.has('--json');
  const resume = flags.has('--resume');
  const out = values.get('--out') ?? null;
  if (!help) {
    if (inputs.length === 0) throw new UsageError('no input images (saemi analyze INPUT... --out DIR)');
    if (out === null && !json)
      throw new UsageError('--out DIR is required (or --json for the summary on stdout)');
    if (flags.has('--rois') && out === null)
      throw new UsageError('--rois needs --out DIR (where rois/ goes)');
    if (resume && out === null) throw new UsageError('--resume needs --out DIR (the folder to resume)');
  }
  return {
    inputs,
    out,
    json,
    modelPath: values.get('--model') ?? null,
    backend,
    threads,
    precision,
    options,
    rois: flags.has('--rois'),
    labelsIn: values.get('--labels-in') ?? null,
    resume,
    imageTimeout,
    help,
  };
}

export const ANALYZE_HELP = `Usage: saemi analyze INPUT... --out DIR [options]

Analyse electron micrographs (PNG, JPEG, TIFF; files or folders, searched recursively) and write
  DIR/particles.csv      one row per particle (sizes in nm/um when the pixel size is known, else px)
  DIR/summary.csv        one row per image and a pooled row "*"
  DIR/labels/<stem>.png  16-bit instance labels (0 = background, value = particle column); stem = the
                         image name without extension, or the whole name when two images share a stem
  DIR/rois/<stem>.zip    with --rois: ImageJ ROI set (RoiSet.zip of polygon outlines, Fiji's ROI Manager)
  DIR/run-manifest.jsonl what --resume reads: one line per finished image
Each image's rows are appended as soon as it is done, so an interrupted run keeps what it finished.
A .txt file beside an image with the same stem (Hitachi/JEOL metadata) is read for the pixel size.

Options:
  -o, --out DIR            output folder (created if missing)
  --model PATH             model sidecar .json (or .onnx with its .json beside it);
                           default: models/saemi-unet.json of this package
  --method model|threshold segmentation method (default model; threshold = Otsu or --threshold)
  --threshold T            threshold on the normalised grey, 0..1 (implies --method threshold)
  --polarity dark|bright|auto  threshold method: particles darker or brighter than the ground (default auto)
  --pixel-size V           pixel size, overrides metadata and scale bar
  --unit nm|um             unit of --pixel-size (default nm)
  --min-area N             particles smaller than N pixels are excluded from statistics (default ${DEFAULT_OPTIONS.minAreaPx})
  --exclude-edges          exclude particles touching the image edge or the info banner
  --no-split               do not separate touching particles
  --watershed              also split with a distance-transform watershed
  --thorough               model method: average the model over 4 mirrored views (about 4x slower,
                           a few more particles found right; see models/README.md)
  --mixed-contrast         model method: keep detections brighter and darker than their surroundings
                           alike (default: the minority contrast is dropped as ground features)
  --banner auto|off|R0:R1  info-banner detection, or rows R0..R1-1 to exclude (default auto)
  --labels-in DIR          measure the label images in DIR instead of segmenting: DIR/<stem>.png or .tif
                           (16-bit, same size, 0 = background; an earlier run's labels/ folder works)
  --rois                   also write each image's particles as an ImageJ ROI set, DIR/rois/<stem>.zip
  --json                   print the summary as JSON on stdout (--out then optional)
  --resume                 continue an interrupted run in the same --out: images it finished (same path,
                           same content) are kept, the rest analysed and appended; needs the same options
  --image-timeout S        seconds one image may take to read and analyse before it is reported and
                           skipped (default ${DEFAULT_IMAGE_TIMEOUT_S}; 0 = no limit)
  --backend auto|wasm|native  onnxruntime flavour (auto: native when it loads, else WASM)
  --threads N              inference threads (default: all cores)
  --precision auto|fp32|int8  model weights: fp32, or the int8 (quantised) variant the sidecar lists; auto
                           (default) takes the variant the sidecar prefers on the backend in use
  -h, --help               this help

Exit status: 0 when every input was analysed, 1 when some failed (each reported on stderr), 2 for usage errors.
`;
