/**
 * `saemi merge RUN_DIR... --out DIR`: pools the outputs of many `saemi analyze` runs (one per job of a cluster
 * array, one per GNU parallel slot) into one run folder, as if one run had analysed every image: particles.csv
 * and summary.csv with each run's rows in the order the runs are given, the pooled `*` row computed over all
 * of them by the same code analyze uses, the label PNGs and ROI sets, and a run manifest, so the result can
 * itself be merged again or resumed.
 *
 * Refused, with one line saying why: a run that did not finish (no pooled row), runs analysed with other
 * options or another model, and an image name found in two runs (unless --prefix-runs puts each run's folder
 * name in front of its image names).
 */
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { csvField, parseCsv, pooledRow, type PoolImage } from '../core/export/csv';
import { oneLine, type FinishedImage } from './finished-image';
import { IncrementalOutput, inspectEarlierRun, ResumeRefused, type EarlierImage } from './incremental-output';
import { outputStem, outputStems } from './inputs';
import { checkOutFolder } from './out-folder';
import { fingerprintDifferences, MANIFEST_FILE, type RunFingerprint } from './run-manifest';

export const MERGE_HELP = `Usage: saemi merge RUN_DIR... --out DIR [--prefix-runs]

Pools the --out folders of several "saemi analyze" runs into DIR, as one run over all their images:
  DIR/particles.csv, DIR/summary.csv (the pooled "*" row over every image), DIR/labels/, DIR/rois/,
  DIR/run-manifest.jsonl (so DIR can be merged again).
Every run must have finished (its summary.csv ends with the pooled row) and used the same options and model.

Options:
  -o, --out DIR     output folder (created if missing; not one of the runs)
  --prefix-runs     name each image RUN/<name>, RUN the run folder's own name: for runs whose image
                    names repeat (by default an image name found in two runs is refused)
  -h, --help        this help
`;

interface MergeArgs {
  runs: string[];
  out: string | null;
  prefixRuns: boolean;
  help: boolean;
}

function parseMergeArgs(argv: string[]): MergeArgs | string {
  const a: MergeArgs = { runs: [], out: null, prefixRuns: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--help' || v === '-h') a.help = true;
    else if (v === '--prefix-runs') a.prefixRuns = true;
    else if (v === '--out' || v === '-o') {
      if (argv[i + 1] === undefined) return `${v} needs a value`;
      a.out = argv[++i];
    } else if (v.startsWith('--out=')) a.out = v.slice(6);
    else if (v.startsWith('-')) return `unknown option ${v} (see saemi merge --help)`;
    else a.runs.push(v);
  }
  if (a.help) return a;
  if (a.runs.length === 0) return 'no run folders (saemi merge RUN_DIR... --out DIR)';
  if (a.out === null) return '--out DIR is required';
  return a;
}

interface Run {
  dir: string;
  fingerprint: RunFingerprint;
  images: EarlierImage[];
}

export async function runMergeCommand(argv: string[]): Promise<number> {
  const err = (line: string): void => void process.stderr.write(line + '\n');
  const parsed = parseMergeArgs(argv);
  if (typeof parsed === 'string') {
    err(`saemi merge: ${parsed}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(MERGE_HELP);
    return 0;
  }
  const out = parsed.out!;
  const refuse = (line: string): number => {
    err(`saemi merge: ${line}`);
    return 2;
  };

  const runs: Run[] = [];
  const seenDirs = new Map<string, string>();
  for (const dir of parsed.runs) {
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      return refuse(`${dir}: no such folder`);
    }
    if (seenDirs.has(real)) return refuse(`${dir} is given twice (also as ${seenDirs.get(real)})`);
    seenDirs.set(real, dir);
    let earlier;
    try {
      earlier = await inspectEarlierRun(dir, null, {
        rows: true,
        advice: 'it is not a folder saemi analyze wrote, or it changed since',
      });
    } catch (e) {
      return refuse(e instanceof ResumeRefused ? e.message : `${dir}: ${oneLine(e)}`);
    }
    if (!earlier)
      return refuse(`${dir} holds no ${MANIFEST_FILE}: not the --out folder of a saemi analyze run`);
    if (!/^\*,/.test(earlier.summaryTail))
      return refuse(
        `${dir}: the run did not finish (summary.csv has no pooled row); finish it with saemi analyze --resume first`,
      );
    runs.push({ dir, fingerprint: earlier.manifest.header.fingerprint, images: earlier.images });
  }
  for (const r of runs.slice(1)) {
    const diffs = fingerprintDifferences(runs[0].fingerprint, r.fingerprint, [
      `in ${runs[0].dir}`,
      `in ${r.dir}`,
    ]);
    if (diffs.length)
      return refuse(`${r.dir} was analysed with other options than ${runs[0].dir} (${diffs.join('; ')})`);
  }
  const outReal = await realpath(out).catch(() => null);
  if (outReal && seenDirs.has(outReal)) return refuse(`--out ${out} is one of the runs being merged`);
  const refused = await checkOutFolder(out);
  if (refused) return refuse(`--out: ${refused}`);

  // The merged images' names: as each run wrote them, or RUN/<name>.
  const prefixes = runs.map((r) => path.basename(path.resolve(r.dir)));
  if (parsed.prefixRuns) {
    const dup = prefixes.find((p, i) => prefixes.indexOf(p) !== i);
    if (dup !== undefined)
      return refuse(`--prefix-runs: two runs are folders named ${dup}; give them folders of their own names`);
  }
  const items: Array<{ run: Run; image: EarlierImage; name: string }> = [];
  const owner = new Map<string, string>();
  for (const [k, run] of runs.entries())
    for (const image of run.images) {
      const name = parsed.prefixRuns ? `${prefixes[k]}/${image.entry.name}` : image.entry.name;
      const other = owner.get(name.toLowerCase());
      if (other !== undefined)
        return refuse(
          `image ${name} is in both ${other} and ${run.dir}; merge runs of different images, or use --prefix-runs`,
        );
      owner.set(name.toLowerCase(), run.dir);
      items.push({ run, image, name });
    }
  const stems = outputStems(items.map((i) => i.name));

  let output: IncrementalOutput | null = null;
  try {
    output = await IncrementalOutput.start(out, runs[0].fingerprint);
    const pools: PoolImage[] = [];
    for (const [k, { run, image, name }] of items.entries()) {
      const { entry } = image;
      const own = entry.stem ?? outputStem(entry.name);
      const rows = image.rows!;
      const pool = { ...image.pool, name };
      const fin: FinishedImage = {
        name,
        particlesBlock: name === entry.name ? rows.particles : renamed(rows.particles, name),
        summaryLine: name === entry.name ? rows.summary : renamed(rows.summary, name),
        pool,
        progress: '',
        warnings: entry.warnings,
        trace: entry.trace ?? [],
        labelPng: await readIfThere(path.join(run.dir, 'labels', own + '.png')),
        roisZip: await readIfThere(path.join(run.dir, 'rois', own + '.zip')),
      };
      await output.add(fin, { path: entry.path, sha256: entry.sha256, stem: stems[k] });
      pools.push(pool);
    }
    await output.finish(pooledRow(pools) + '\n');
  } catch (e) {
    err(`saemi merge: cannot write ${out}: ${oneLine(e)}`);
    return 1;
  } finally {
    await output?.close();
  }
  const n = items.length;
  const particles = items.reduce((t, i) => t + i.image.entry.particles, 0);
  err(`merged ${runs.length} run(s): ${n} image(s), ${particles} particle(s) into ${out}`);
  return 0;
}

/** CSV rows with their first field (the image name) replaced. */
function renamed(block: string, name: string): string {
  return parseCsv(block)
    .map((r) => [name, ...r.slice(1)].map(csvField).join(',') + '\n')
    .join('');
}

async function readIfThere(p: string): Promise<Uint8Array | null> {
  try {
    const b = await readFile(p);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
