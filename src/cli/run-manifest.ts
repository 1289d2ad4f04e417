/**
 * The run manifest, DIR/run-manifest.jsonl: what `--resume` trusts. Line 1 says how the run analyses (options,
 * model); then one line per finished image, written after that image's rows and label PNG are on disk, with
 * the byte lengths particles.csv and summary.csv had after its rows. A resumed run cuts both files back to
 * the last such line, so rows of an image in flight when the process died never survive. JSON lines: a line
 * cut short by a kill is simply not there yet.
 */
import path from 'node:path';
import type { AnalysisOptions } from '../core/types';
import type { ModelIdentity } from './analysis-host';

export const MANIFEST_FILE = 'run-manifest.jsonl';
const FORMAT = 1;

export interface RunFingerprint {
  options: AnalysisOptions;
  /**
   * The model that segments (method model), by name, version and the sha256 of its weights; file and precision
   * say which of the sidecar's weights files that was (absent in manifests written before variants existed).
   */
  model: { name: string; version: string; sha256: string; file?: string; precision?: string } | null;
  /** The --labels-in folder (absolute) whose label images are measured instead of segmenting; absent: none. */
  labelsIn?: string | null;
}

export interface RunHeader {
  kind: 'run';
  format: number;
  fingerprint: RunFingerprint;
  /** Byte lengths of particles.csv and summary.csv holding their header only. */
  particlesEnd: number;
  summaryEnd: number;
}

export interface ImageEntry {
  kind: 'image';
  /** The `image` column. */
  name: string;
  /** Absolute path it was read from. */
  path: string;
  sha256: string;
  /** Its outputs' stem (labels/<stem>.png); absent in manifests written before stems were unique. */
  stem?: string;
  /** Rows it has in particles.csv. */
  particles: number;
  particlesEnd: number;
  summaryEnd: number;
  warnings: string[];
  /** The decision trace; absent in manifests written before it existed. */
  trace?: string[];
}

export function runFingerprint(
  options: AnalysisOptions,
  model: ModelIdentity | null,
  labelsIn: string | null = null,
): RunFingerprint {
  return {
    options,
    labelsIn: labelsIn === null ? null : path.resolve(labelsIn),
    model:
      options.method === 'model' && model && labelsIn === null
        ? {
            name: model.name,
            version: model.version,
            sha256: model.sha256,
            file: model.file,
            precision: model.precision,
          }
        : null,
  };
}

/** The options as the command line spells them, for the refusal message. */
const FLAG_OF: Record<string, string> = {
  method: '--method',
  split: '--no-split',
  watershed: '--watershed',
  minAreaPx: '--min-area',
  excludeEdges: '--exclude-edges',
  threshold: '--threshold',
  darkParticles: '--polarity',
  pixelSizeOverride: '--pixel-size/--unit',
  banner: '--banner',
  thorough: '--thorough',
  mixedContrast: '--mixed-contrast',
};

/** "--min-area: 20 then, 30 now", one per option that differs; empty when the runs are alike. */
export function fingerprintDifferences(
  then: RunFingerprint,
  now: RunFingerprint,
  words: [string, string] = ['then', 'now'],
): string[] {
  const [w0, w1] = words;
  const out: string[] = [];
  const a = then.options as unknown as Record<string, unknown>;
  const b = now.options as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = JSON.stringify(a[k] ?? null);
    const y = JSON.stringify(b[k] ?? null);
    if (x !== y) out.push(`${FLAG_OF[k] ?? k}: ${x} ${w0}, ${y} ${w1}`);
  }
  // Compared by name, version and sha256 (which tells the weights files apart); precision only labels them.
  const id = (f: RunFingerprint): string =>
    f.model ? `${f.model.name} ${f.model.version} (sha256 ${f.model.sha256.slice(0, 12)})` : 'none';
  const m = (f: RunFingerprint): string =>
    f.model?.precision ? id(f).replace(' (sha256', ` ${f.model.precision} (sha256`) : id(f);
  if (id(then) !== id(now)) out.push(`model: ${m(then)} ${w0}, ${m(now)} ${w1}`);
  if ((then.labelsIn ?? null) !== (now.labelsIn ?? null))
    out.push(`--labels-in: ${then.labelsIn ?? 'none'} ${w0}, ${now.labelsIn ?? 'none'} ${w1}`);
  return out;
}

export function runHeader(fingerprint: RunFingerprint, particlesEnd: number, summaryEnd: number): RunHeader {
  return { kind: 'run', format: FORMAT, fingerprint, particlesEnd, summaryEnd };
}

export function manifestLine(entry: RunHeader | ImageEntry): string {
  return JSON.stringify(entry) + '\n';
}

export interface ParsedManifest {
  header: RunHeader;
  images: ImageEntry[];
  /** Bytes up to the end of the last complete line. */
  validBytes: number;
}

/** Parses the manifest; a last line without its newline (cut by a kill) is left out. Throws a one-line Error. */
export function parseManifest(bytes: Uint8Array): ParsedManifest {
  const end = bytes.lastIndexOf(0x0a) + 1;
  const lines = new TextDecoder().decode(bytes.subarray(0, end)).split('\n').slice(0, -1);
  const parsed = lines.map((l, i) => {
    try {
      return JSON.parse(l) as RunHeader | ImageEntry;
    } catch {
      throw new Error(`${MANIFEST_FILE} line ${i + 1} is not JSON`);
    }
  });
  const [header, ...rest] = parsed;
  if (!header || header.kind !== 'run' || header.format !== FORMAT)
    throw new Error(`${MANIFEST_FILE} does not start with a run line of format ${FORMAT}`);
  const images: ImageEntry[] = [];
  for (const [i, e] of rest.entries()) {
    if (e.kind !== 'image' || typeof e.name !== 'string' || typeof e.sha256 !== 'string')
      throw new Error(`${MANIFEST_FILE} line ${i + 2} is not an image line`);
    images.push(e);
  }
  return { header, images, validBytes: end };
}
