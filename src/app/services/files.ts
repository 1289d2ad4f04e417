/**
 * Collecting files from what the user gives us: drops (files and whole folders, via
 * webkitGetAsEntry), the file picker, the clipboard, and the OS launch queue (installed PWA).
 */

export function stemOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return (dot > 0 ? base.slice(0, dot) : base).toLowerCase();
}

/** Text side-cars that carry calibration (Hitachi .txt, JEOL .txt); only used when an image shares the stem. */
export function isSidecarText(name: string): boolean {
  return /\.(txt|hdr)$/i.test(name);
}

/** Hidden and system files that come along with folders and are never micrographs. */
function isJunk(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (isJunk(entry.name)) return;
  if (entry.isFile) {
    out.push(await entryFile(entry as FileSystemFileEntry));
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries returns at most ~100 entries per call; read until it returns none.
    for (;;) {
      const batch = await readEntries(reader);
      if (batch.length === 0) break;
      for (const e of batch.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))) {
        await walk(e, out);
      }
    }
  }
}

/** All files in a drop, folders walked recursively, in name order within each folder. */
export async function filesFromDataTransfer(dt: DataTransfer): Promise<File[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  // Entries must be taken synchronously: the DataTransfer is emptied once the event handler returns.
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (entries.length === 0 && loose.length === 0) return Array.from(dt.files ?? []);
  const out: File[] = [...loose];
  for (const e of entries) await walk(e, out);
  return out.filter((f) => !isJunk(f.name));
}

/** Images pasted from the clipboard get a readable, unique name (the clipboard gives "image.png"). */
export function filesFromClipboard(data: DataTransfer | null): File[] {
  if (!data) return [];
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return Array.from(data.files).map((f, i) =>
    f.name && f.name !== 'image.png' ? f : new File([f], `pasted-${stamp}-${i + 1}.png`, { type: f.type }),
  );
}

interface LaunchParams {
  files: FileSystemFileHandle[];
}

/** Files the OS hands to the installed app (manifest file_handlers). */
export function onLaunchFiles(handler: (files: File[]) => void): void {
  const lq = (window as unknown as { launchQueue?: { setConsumer(cb: (p: LaunchParams) => void): void } })
    .launchQueue;
  lq?.setConsumer(async (params) => {
    if (!params.files?.length) return;
    handler(await Promise.all(params.files.map((h) => h.getFile())));
  });
}

export function download(data: BlobPart, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
