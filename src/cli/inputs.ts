/**
 * Expands the command line's files and folders into the list of images to analyse, each with a display name
 * that is unique in the batch (it becomes the `image` column and the label file's path) and the texts of
 * same-stem .txt side-car files (Hitachi/JEOL write the pixel size there).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { specialKind } from './read-input';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.dm3', '.dm4', '.mrc']);

export interface InputFile {
  /** Path on disk. */
  path: string;
  /** Name in the outputs: relative to the folder given, or the base name for a file given directly. */
  name: string;
}

export interface InputProblem {
  arg: string;
  message: string;
}

export async function collectInputs(
  args: string[],
): Promise<{ files: InputFile[]; problems: InputProblem[]; skipped: InputProblem[] }> {
  const files: InputFile[] = [];
  const problems: InputProblem[] = [];
  /** Entries of folders named like images that are no files (FIFOs, devices): reading them could block. */
  const skipped: InputProblem[] = [];
  for (const arg of args) {
    let st;
    try {
      st = await stat(arg);
    } catch {
      problems.push({ arg, message: 'no such file or folder' });
      continue;
    }
    if (st.isDirectory()) {
      const found: string[] = [];
      await walk(arg, found, skipped);
      found.sort();
      if (found.length === 0) problems.push({ arg, message: 'folder holds no PNG, JPEG or TIFF images' });
      for (const p of found) files.push({ path: p, name: toPosix(path.relative(arg, p)) });
    } else {
      // Files named explicitly are always tried: the decoder sniffs the content, whatever the extension.
      files.push({ path: arg, name: path.basename(arg) });
    }
  }
  // Same names from different places (a/img.tif, b/img.tif): keep them apart.
  const seen = new Map<string, number>();
  for (const f of files) {
    const key = f.name.toLowerCase();
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > 1) {
      const ext = path.posix.extname(f.name);
      f.name = `${f.name.slice(0, f.name.length - ext.length)}-${n}${ext}`;
    }
  }
  return { files, problems, skipped };
}

async function walk(dir: string, out: string[], skipped: InputProblem[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out, skipped);
    else if (!IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) continue;
    else if (e.isFile()) out.push(p);
    else if (specialKind(e))
      skipped.push({ arg: p, message: `not a regular file (${specialKind(e)}): skipped` });
  }
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

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
