/**
 * Checks the --out folder before any work: it must be (or be creatable as) a folder on a real filesystem
 * that takes a regular file. Kernel pseudo-filesystems (/proc, /sys, ...) are refused by their type, not by
 * their path: on them, creating folders recursively can hang and "files" are kernel interfaces.
 */
import { mkdir, open, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { oneLine } from './finished-image';

/** statfs f_type of filesystems that hold no user files (linux/magic.h). */
const PSEUDO_FS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x1cd1, 'devpts'],
  [0x42494e4d, 'binfmt_misc'],
  [0xcafe4a11, 'bpf'],
  [0x6e736673, 'nsfs'],
  [0x50495045, 'pipefs'],
]);

/** Why `dir` cannot take the outputs (one line), or null when it can; creates the folder when missing. */
export async function checkOutFolder(dir: string): Promise<string | null> {
  const abs = path.resolve(dir);
  // The nearest part of the path that exists says what the rest would be created on.
  let existing = abs;
  for (;;) {
    try {
      const st = await stat(existing);
      if (!st.isDirectory())
        return existing === abs ? `${dir} is not a folder` : `${existing} is not a folder`;
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        return `${existing}: ${code === 'EACCES' ? 'permission denied' : oneLine(e)}`;
      const up = path.dirname(existing);
      if (up === existing) return `${dir}: no part of the path exists`;
      existing = up;
    }
  }
  try {
    const fs = PSEUDO_FS.get((await statfs(existing)).type);
    if (fs) return `${dir} is on the kernel's ${fs} filesystem, not a folder for results`;
  } catch {
    // statfs missing or refused: the write probe below decides.
  }
  const probe = path.join(abs, `.saemi-write-test-${process.pid}`);
  try {
    await mkdir(abs, { recursive: true });
    const fh = await open(probe, 'wx');
    await fh.close();
    await rm(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'read-only filesystem'
          : oneLine(e);
    return `${dir} cannot take files (${why})`;
  }
  return null;
}
