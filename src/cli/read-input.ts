/**
 * Reads one input's bytes so that a file that never delivers them (a FIFO whose writer never writes, a hung
 * network mount) cannot stall the batch: the read races the image's time limit. FIFOs and pipes
 * (`<(command)`) are read through a non-blocking socket that is closed when the time is up, so nothing is left
 * behind; a regular file is read by fs, and a read stuck in the kernel then only keeps one libuv thread busy.
 */
import { constants, open } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Stats, Dirent } from 'node:fs';
import { Socket } from 'node:net';

/** Largest input, from a file or a pipe: one buffer of Node's, and far past any micrograph. */
export const MAX_INPUT_BYTES = 2 ** 31 - 1;

export class ReadTimeout extends Error {
  constructor() {
    super('the file delivered no complete image in time');
    this.name = 'ReadTimeout';
  }
}

/** What a directory entry or file is when it is not a regular file or folder ('FIFO', 'socket', ...). */
export function specialKind(s: Stats | Dirent): string | null {
  if (s.isFIFO()) return 'FIFO';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice()) return 'character device';
  if (s.isBlockDevice()) return 'block device';
  return null;
}

/** The file's bytes; rejects with ReadTimeout when `signal` aborts first, or an Error saying what is wrong. */
export async function readInputBytes(p: string, signal: AbortSignal): Promise<Uint8Array> {
  const st = await stat(p);
  if (st.isDirectory()) throw new Error('is a folder');
  const kind = specialKind(st);
  if (kind === 'FIFO') return readPipe(p, signal);
  if (kind !== null) throw new Error(`not a regular file (${kind})`);
  // Refused before reading: its bytes would not fit one buffer, and an image that big is not one.
  if (st.size > MAX_INPUT_BYTES)
    throw new Error(`file is ${(st.size / 2 ** 30).toFixed(1)} GiB, over the 2 GiB input limit: not read`);
  return withinTime(
    readFile(p).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
    signal,
  );
}

/** `work`, or a ReadTimeout when `signal` aborts first (the work itself is left to finish or hang). */
export function withinTime<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new ReadTimeout());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new ReadTimeout());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function readPipe(p: string, signal: AbortSignal): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    // O_NONBLOCK: a blocking open waits for a writer inside a libuv thread, which no timer can get back.
    // Opened this way, the socket waits for the writer (Linux reports no hang-up on a FIFO that never had
    // one) until the data ends or the time is up, and destroying it closes the descriptor.
    open(p, constants.O_RDONLY | constants.O_NONBLOCK, (err, fd) => {
      if (err) return reject(err);
      const sock = new Socket({ fd, readable: true, writable: false });
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const finish = (e: Error | null): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        sock.destroy();
        if (e) return reject(e);
        // An array of its own (not a slice of Node's buffer pool), so it can be transferred to a worker.
        const out = new Uint8Array(size);
        let o = 0;
        for (const c of chunks) {
          out.set(c, o);
          o += c.length;
        }
        resolve(out);
      };
      const onAbort = (): void => finish(new ReadTimeout());
      if (signal.aborted) return finish(new ReadTimeout());
      signal.addEventListener('abort', onAbort, { once: true });
      sock.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_INPUT_BYTES) finish(new Error('more than 2 GiB from a pipe: not an image'));
        else chunks.push(c);
      });
      sock.on('end', () => finish(null));
      sock.on('error', (e) => finish(e));
    });
  });
}
