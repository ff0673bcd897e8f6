import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';

/** Room kept for the header line: its JSON is padded with spaces to this, which JSON.parse reads past. */
export const HEADER_BYTES = 512;

/**
 * A file of one header line (which holds a digest of what follows) and a body, written a piece at a time to a
 * temporary file and renamed into place when finished: a reader sees the old file or the new one, never part
 * of one. The header goes last, over a blank line kept for it, so no piece is held after it is written.
 * Synchronous, or with `background` on libuv's threads: then every call answers a promise of its write.
 */
export class HeaderFile {
  private readonly tmp: string;
  private fd: number | undefined;
  private handle: Promise<FileHandle> | undefined;
  private position = HEADER_BYTES + 1;

  constructor(
    private readonly file: string,
    private readonly background: boolean,
  ) {
    this.tmp = `${file}.${process.pid}.tmp`;
    const blank = `${' '.repeat(HEADER_BYTES)}\n`;
    if (background) {
      this.handle = open(this.tmp, 'w', 0o600).then(async (h) => {
        await h.write(blank, 0);
        return h;
      });
      // Marked as seen: the failure reaches whoever waits on the next write.
      this.handle.catch(() => undefined);
    } else {
      this.fd = openSync(this.tmp, 'w', 0o600);
      writeSync(this.fd, blank, 0);
    }
  }

  /** The body's next piece, at its place in the file (a piece's write may start before the last ends). */
  append(text: string): Promise<void> | undefined {
    const at = this.position;
    this.position += Buffer.byteLength(text);
    if (this.fd !== undefined) {
      writeSync(this.fd, text, at);
      return undefined;
    }
    return this.handle!.then((h) => h.write(text, at)).then(() => undefined);
  }

  /** Writes the header line, closes the file and renames it into place. */
  finish(header: string): Promise<void> | undefined {
    const line = header.padEnd(HEADER_BYTES);
    if (Buffer.byteLength(line) !== HEADER_BYTES || header.includes('\n'))
      throw new Error(`a header of ${Buffer.byteLength(header)} bytes does not fit in ${HEADER_BYTES}`);
    if (this.fd !== undefined) {
      writeSync(this.fd, line, 0);
      closeSync(this.fd);
      this.fd = undefined;
      renameSync(this.tmp, this.file);
      return undefined;
    }
    return this.handle!.then(async (h) => {
      await h.write(line, 0);
      await h.close();
      await rename(this.tmp, this.file);
    });
  }

  /** After a failure: the temporary file closed and removed, errors ignored (the failure is what counts). */
  abandon(): Promise<void> | undefined {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed or never usable.
      }
      this.fd = undefined;
      rmSync(this.tmp, { force: true });
      return undefined;
    }
    return this.handle
      ?.then((h) => h.close())
      .catch(() => undefined)
      .then(() => rm(this.tmp, { force: true }))
      .catch(() => undefined);
  }
}
