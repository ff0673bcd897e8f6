import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * Opens a JSON-lines file (task log, audit log) to append. A kill -9 can cut a write short, leaving the
 * file's last line without its newline: that line is ended first, so it stays a line of its own, which
 * readers skip, instead of joining the next line written and spoiling it too.
 */
export function openLineFile(file: string): number {
  const fd = openSync(file, 'a+');
  try {
    const { size } = fstatSync(fd);
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) writeSync(fd, '\n');
    }
    return fd;
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // the open's error is the one worth reporting
  }
}
