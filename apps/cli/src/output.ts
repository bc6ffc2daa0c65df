/**
 * The output file of `seg segment`: checked before any work (format from the
 * extension, a folder that can be made and written, not one of the inputs),
 * written atomically after the run, and never lost: when the write fails the
 * mask goes to the temporary folder and the message says where.
 */
import { closeSync, existsSync, openSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { type GrayImage, makeFolder, writeImage } from '@seg/tensor/node';
import { UsageError } from './args.js';

/** An input file, for the check that --out is none of them. */
export interface InputFile {
  /** How messages name it: 'the image', '--scribbles', '--mask'. */
  what: string;
  path: string;
}

const FORMATS = ['.png', '.jpg', '.jpeg'];

/**
 * Checks `out` before the run and returns its resolved path: a .png / .jpg /
 * .jpeg name, not a folder, not one of `inputs` (same real path) unless
 * `force`, in a folder that exists or can be made and can be written (a
 * probe file is created and removed). Throws an error that says which.
 */
export function prepareOutput(out: string, inputs: readonly InputFile[], force: boolean): string {
  const fn = 'seg segment';
  const ext = extname(out).toLowerCase();
  if (!FORMATS.includes(ext)) {
    throw new UsageError(
      `${fn}: --out ${JSON.stringify(out)} has ${ext ? `the extension ${ext}` : 'no extension'}, expected a .png, .jpg or .jpeg file (the format follows the extension)`,
    );
  }
  const path = resolve(out);
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new UsageError(`${fn}: --out ${JSON.stringify(out)} is a folder, expected a file name`);
  }
  if (!force) {
    const real = realTarget(path);
    for (const input of inputs) {
      if (real !== null && existsSync(input.path) && realpathSync(input.path) === real) {
        throw new UsageError(
          `${fn}: --out ${JSON.stringify(out)} is ${input.what} (${input.path}), which the mask would overwrite; choose another --out, or pass --force`,
        );
      }
    }
  }
  const dir = dirname(path);
  try {
    makeFolder(dir, fn);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const probe = join(dir, `.${basename(path)}.${process.pid}.probe`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw new UsageError(
      `${fn}: --out ${JSON.stringify(out)}: cannot write in ${dir} (${(e as Error).message})`,
    );
  }
  return path;
}

/** The real path `path` would have: its own if it exists, else its folder's real path + its name. */
function realTarget(path: string): string | null {
  if (existsSync(path)) return realpathSync(path);
  const dir = dirname(path);
  return existsSync(dir) ? join(realpathSync(dir), basename(path)) : null;
}

/** Where a mask went, and what went wrong on the way. */
export interface Saved {
  /** The file that holds the mask, or null when no write succeeded. */
  path: string | null;
  /** Set when the mask is not at the requested path: what failed, and where it is instead. */
  problem?: string;
}

/**
 * Writes the mask to `out` (atomically: a temporary file in the same folder,
 * renamed into place). If that fails, writes it to the system's temporary
 * folder instead and says so; `fallbackDir` is for tests.
 */
export function saveMask(out: string, mask: GrayImage, fallbackDir = tmpdir()): Saved {
  try {
    writeImage(out, mask);
    return { path: out };
  } catch (first) {
    const stem = basename(out, extname(out)) || 'mask';
    const fallback = join(fallbackDir, `seg-${stem}-${process.pid}-${Date.now()}.png`);
    const why = (first as Error).message;
    try {
      writeImage(fallback, mask);
      return {
        path: fallback,
        problem: `seg segment: could not write the mask to ${out} (${why}); it was saved to ${fallback} instead`,
      };
    } catch (second) {
      return {
        path: null,
        problem: `seg segment: could not write the mask to ${out} (${why}), nor to ${fallback} (${(second as Error).message}); the mask is lost`,
      };
    }
  }
}

/**
 * Checks an output folder before the run (`seg segment DIR`): not a file,
 * not one of the input folders (same real path) unless `force`, made if
 * missing and writable (a probe file is created and removed).
 */
export function prepareFolder(out: string, inputs: readonly InputFile[], force: boolean): string {
  const fn = 'seg segment';
  const path = resolve(out);
  if (existsSync(path) && !statSync(path).isDirectory()) {
    throw new UsageError(
      `${fn}: --out ${JSON.stringify(out)} is a file, expected a folder for the masks of a folder of images`,
    );
  }
  if (!force && existsSync(path)) {
    const real = realpathSync(path);
    for (const input of inputs) {
      if (existsSync(input.path) && realpathSync(input.path) === real) {
        throw new UsageError(
          `${fn}: --out ${JSON.stringify(out)} is ${input.what} (${input.path}), whose files the masks would overwrite; choose another --out, or pass --force`,
        );
      }
    }
  }
  try {
    makeFolder(path, fn);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const probe = join(path, `.seg.${process.pid}.probe`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw new UsageError(
      `${fn}: --out ${JSON.stringify(out)}: cannot write in it (${(e as Error).message})`,
    );
  }
  return path;
}
