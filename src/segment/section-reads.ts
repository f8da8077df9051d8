// How a segment reader gets its sections (reader.ts): each looked up in the segment's table
// (format.ts), read whole and CRC-checked, or handed out by range for text format 2 (whose
// blocks carry their own checks, text/block-reader.ts); and how a decoder's error becomes a
// SegmentCorruptError naming its section.
import { SegmentCorruptError, verifySection, type SectionEntry, type SectionRange, type SegmentMeta } from './format.ts';
import type { TextSectionBytes } from './text/block-reader.ts';

export type ReadSection = (name: string, range: SectionRange) => Promise<Buffer>;

export class SegmentSections {
  constructor(private readonly meta: SegmentMeta, private readonly readSection: ReadSection) {}

  /** The section's table entry; a segment without it is corrupt. */
  entry(name: string): SectionEntry {
    const entry = this.meta.sections[name];
    if (entry === undefined) throw new SegmentCorruptError(name, 'section missing from the table');
    return entry;
  }

  /** The whole section, its CRC checked. */
  async load(name: string): Promise<Buffer> {
    const entry = this.entry(name);
    return verifySection(name, entry, await this.readSection(name, { offset: entry.offset, length: entry.length }));
  }

  /** The section read by range, each range within it. */
  ranged(name: string): TextSectionBytes {
    const entry = this.entry(name);
    return {
      length: entry.length,
      verified: false,
      read: async (offset, length) => {
        if (offset + length > entry.length) throw new SegmentCorruptError(name, `range ${offset}+${length} beyond the section's ${entry.length} bytes`);
        return this.readSection(name, { offset: entry.offset + offset, length });
      },
    };
  }
}

/** `make()`, its errors reported as the section's corruption. */
export function decoded<T>(section: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof SegmentCorruptError) throw e;
    throw new SegmentCorruptError(section, (e as Error).message);
  }
}

/** Every decoded section holds the table's row count. */
export function checkRows(meta: SegmentMeta, counts: Iterable<readonly [string, number]>): void {
  for (const [section, rows] of counts) {
    if (rows !== meta.rows) throw new SegmentCorruptError(section, `holds ${rows} rows; the table says ${meta.rows}`);
  }
}
