/**
 * Expands the command line's files and folders into the list of images to analyse, each with a display name
 * that is unique in the batch (it becomes the `image` column) and an output stem that is unique too (the
 * label PNG and ROI set are written as labels/<stem>.png and rois/<stem>.zip). Everything left out is said:
 * folder entries named like images that are no regular files (FIFOs, devices, sockets are never opened: a
 * read could block for good), broken links and symlink loops, and the same file listed twice.
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { specialKind } from './read-input';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.dm3', '.dm4', '.mrc']);

export interface InputFile {
  /** Path on disk. */
  path: string;
  /**
   * Name in the outputs: relative to the folder given, or the base name for a file given directly; when two
   * inputs would share it (case aside), as many of their parent folders as tell them apart are kept.
   */
  name: string;
  /** labels/<stem>.png, rois/<stem>.zip: see outputStems. */
  stem: string;
}

export interface InputProblem {
  arg: string;
  message: string;
}

interface Found {
  path: string;
  /** Path components of the resolved path, the file's own name last. */
  parts: string[];
  /** How many trailing components make its name (1 for a file given directly). */
  keep: number;
  real: string;
}

export async function collectInputs(
  args: string[],
): Promise<{ files: InputFile[]; problems: InputProblem[]; skipped: InputProblem[] }> {
  const found: Found[] = [];
  const problems: InputProblem[] = [];
  const skipped: InputProblem[] = [];
  for (const arg of args) {
    let st: Stats;
    try {
      st = await stat(arg);
    } catch (e) {
      problems.push({ arg, message: await whyNot(arg, e) });
      continue;
    }
    if (st.isDirectory()) {
      const inFolder: string[] = [];
      await walk(arg, inFolder, skipped, new Set([dirKey(st)]));
      inFolder.sort();
      if (inFolder.length === 0)
        problems.push({ arg, message: 'folder holds no PNG, JPEG, TIFF, DM3/DM4 or MRC images' });
      for (const p of inFolder) found.push(await described(p, path.relative(arg, p).split(path.sep).length));
    } else {
      // Files named explicitly are always tried: the decoder sniffs the content, whatever the extension.
      found.push(await described(arg, 1));
    }
  }
  // The same file twice (a folder and a file in it, two links to one image) is one image: pooled
  // statistics must not count it twice.
  const first = new Map<string, Found>();
  const unique: Found[] = [];
  for (const f of found) {
    const earlier = first.get(f.real);
    if (earlier) {
      skipped.push({ arg: f.path, message: `the same file as ${earlier.path}: analysed once` });
      continue;
    }
    first.set(f.real, f);
    unique.push(f);
  }
  const names = uniqueNames(unique);
  const stems = outputStems(names);
  const files = unique.map((f, i) => ({ path: f.path, name: names[i], stem: stems[i] }));
  return { files, problems, skipped };
}

async function described(p: string, keep: number): Promise<Found> {
  const parts = path.resolve(p).split(path.sep).filter(Boolean);
  let real: string;
  try {
    real = await realpath(p);
  } catch {
    real = path.resolve(p);
  }
  return { path: p, parts, keep: Math.min(keep, parts.length), real };
}

/** Why `p` cannot be stat'ed, in words: a loop or a dangling link is never "no such file". */
async function whyNot(p: string, e: unknown): Promise<string> {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return 'symlink loop';
  if (code === 'ENOENT') {
    const isLink = await lstat(p).then(
      (l) => l.isSymbolicLink(),
      () => false,
    );
    return isLink ? 'broken symlink (its target does not exist)' : 'no such file or folder';
  }
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'no such file or folder (a part of the path is a file)';
  return code ? `cannot be read (${code})` : String(e);
}

const dirKey = (st: Stats): string => `${st.dev}:${st.ino}`;

async function walk(dir: string, out: string[], skipped: InputProblem[], seen: Set<string>): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    skipped.push({ arg: dir, message: `folder not read (${await whyNot(dir, e)}): skipped` });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    const named = IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase());
    if (e.isFile()) {
      if (named) out.push(p);
      continue;
    }
    if (!e.isDirectory() && !e.isSymbolicLink()) {
      const kind = specialKind(e);
      if (named && kind) skipped.push({ arg: p, message: `not a regular file (${kind}): skipped` });
      continue;
    }
    // A folder, or a link to be followed (to a file or a folder) with stat, never opened before we know.
    let st: Stats;
    try {
      st = e.isDirectory() ? await lstat(p) : await stat(p);
    } catch (err) {
      if (named || e.isDirectory()) skipped.push({ arg: p, message: `${await whyNot(p, err)}: skipped` });
      continue;
    }
    if (st.isDirectory()) {
      // A link back up the tree would walk for ever.
      if (seen.has(dirKey(st))) {
        skipped.push({ arg: p, message: 'symlink loop (a folder already being searched): skipped' });
        continue;
      }
      seen.add(dirKey(st));
      await walk(p, out, skipped, seen);
      seen.delete(dirKey(st));
    } else if (!named) continue;
    else if (st.isFile()) out.push(p);
    else
      skipped.push({
        arg: p,
        message: `links to no regular file (${specialKind(st) ?? 'unknown'}): skipped`,
      });
  }
}

/**
 * Unique names, whatever order the inputs came in: names that collide (case aside: outputs may land on a
 * case-insensitive disk) take one more parent folder each until they differ; names still equal after that
 * (A.png and a.png in one folder) get -2, -3 in the order of their paths.
 */
function uniqueNames(found: Found[]): string[] {
  const keep = found.map((f) => f.keep);
  const nameOf = (i: number): string => found[i].parts.slice(-keep[i]).join('/');
  for (;;) {
    const groups = groupBy(
      found.map((_, i) => i),
      (i) => nameOf(i).toLowerCase(),
    );
    let grew = false;
    for (const g of groups.values()) {
      if (g.length < 2) continue;
      for (const i of g)
        if (keep[i] < found[i].parts.length) {
          keep[i]++;
          grew = true;
        }
    }
    if (!grew) break;
  }
  const names = found.map((_, i) => nameOf(i));
  return withSuffixes(
    names,
    found.map((f) => f.parts.join('/')),
    (n, k) => {
      const ext = path.posix.extname(n);
      return `${n.slice(0, n.length - ext.length)}-${k}${ext}`;
    },
  );
}

/**
 * The output stems of a batch's image names (labels/<stem>.png, rois/<stem>.zip): the name without its
 * extension when no other image of the batch has that stem (the contract's labels/<image stem>.png), else
 * the whole name (a.png and a.tif write labels/a.png.png and labels/a.tif.png); `reserved` stems (those a
 * resumed run already wrote) are not given again. Depends on the set of names only, not on their order.
 */
export function outputStems(names: string[], reserved: Iterable<string> = []): string[] {
  const byStem = groupBy(names, (n) => outputStem(n).toLowerCase());
  const wanted = names.map((n) => (byStem.get(outputStem(n).toLowerCase())!.length > 1 ? n : outputStem(n)));
  return withSuffixes(wanted, names, (s, k) => `${s}-${k}`, reserved);
}

/**
 * `list` with each value that repeats another (case aside) or a reserved one changed to `suffix(value, k)`,
 * k >= 2 the first that is free. Which of equal values keeps its own is decided by sorting on (value,
 * `tiebreak`), so the result does not depend on the order of `list` when the tie-breaks are unique.
 */
function withSuffixes(
  list: string[],
  tiebreak: string[],
  suffix: (v: string, k: number) => string,
  reserved: Iterable<string> = [],
): string[] {
  const lower = (v: string): string => v.toLowerCase();
  const reservedKeys = new Set([...reserved].map(lower));
  const taken = new Set([...reservedKeys, ...list.map(lower)]);
  const kept = new Set<string>();
  const out = [...list];
  const order = list
    .map((_, i) => i)
    .sort((a, b) => compare(list[a], list[b]) || compare(tiebreak[a], tiebreak[b]));
  for (const i of order) {
    const key = lower(list[i]);
    if (!reservedKeys.has(key) && !kept.has(key)) {
      kept.add(key);
      continue;
    }
    let k = 2;
    while (taken.has(lower(suffix(list[i], k)))) k++;
    out[i] = suffix(list[i], k);
    taken.add(lower(out[i]));
  }
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupBy<T>(list: T[], key: (v: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const v of list) {
    const k = key(v);
    const g = m.get(k);
    if (g) g.push(v);
    else m.set(k, [v]);
  }
  return m;
}

/** Texts of side-car files next to `imagePath`: same stem, .txt (any case). */
export async function readSidecarTexts(imagePath: string): Promise<string[]> {
  const dir = path.dirname(imagePath);
  const stem = path.basename(imagePath, path.extname(imagePath));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const texts: string[] = [];
  for (const n of names) {
    if (path.extname(n).toLowerCase() !== '.txt') continue;
    if (path.basename(n, path.extname(n)) !== stem) continue;
    try {
      const buf = await readFile(path.join(dir, n));
      texts.push(decodeText(buf));
    } catch {
      // An unreadable side-car is not fatal: calibration falls back to the image itself.
    }
  }
  return texts;
}

/** UTF-8, or Latin-1 when the file is not valid UTF-8 (older instrument PCs write "µm" as 0xB5). */
function decodeText(buf: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return new TextDecoder('latin1').decode(buf);
  }
}

/** The output stem of an image name: extension dropped, kept relative (labels/<sub>/<stem>.png). */
export function outputStem(name: string): string {
  const ext = path.posix.extname(name);
  return ext ? name.slice(0, -ext.length) : name;
}
