/**
 * The file-system steps that change a run folder's layout (rename, remove), behind one object so that tests can
 * crash a write at any one of them (`vi.spyOn(fsOps, 'rename')`) and check that what is left still loads.
 * Not exported from the package: an internal seam.
 */
import { type RmOptions, renameSync, rmSync } from 'node:fs';

export const fsOps = {
  rename(from: string, to: string): void {
    renameSync(from, to);
  },
  rm(path: string, opts?: RmOptions): void {
    rmSync(path, opts);
  },
};
