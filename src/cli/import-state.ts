// The resume point of an interrupted `silt import`: a small JSON file next to the data (or at
// --state) rewritten after every batch the server acknowledged, removed when the import is done.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { CliError } from './client.ts';
import type { Format, Position } from './sources.ts';

export interface ImportState {
  namespace: string;
  format: Format;
  /** The file's size when last read, for the record. */
  size: number;
  id_offset: number;
  position: Position;
  documents: number;
}

export function statePath(file: string, given?: string): string {
  return given ?? `${file}.silt-import.json`;
}

export function loadState(path: string): ImportState | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ImportState;
  } catch (e) {
    throw new CliError(`${path} is not a readable import state (${(e as Error).message}); delete it to start over`);
  }
}

/** Written whole then renamed, so an interruption mid-write leaves the previous state. */
export function saveState(path: string, state: ImportState): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(state));
  renameSync(`${path}.tmp`, path);
}

export function removeState(path: string): void {
  rmSync(path, { force: true });
}
