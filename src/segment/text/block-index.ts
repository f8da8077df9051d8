// Text format 2 of a segment's full-text index (`text:{field}` section; the table says
// `text[field].format: 2`): block-compressed postings (block-postings.ts) behind a dictionary
// laid out so that a query touches only its own terms' bytes.
//
//   header, u32 × 16: magic "TXT2", rows, terms, dictBlocks, termIndexOffset, dictOffset,
//                     dictLength, postingsOffset, postingsLength, lengthsOffset, normsOffset,
//                     CRC-32 of the term index, of the norms, of the lengths, 0, 0
//   term index        u32 dictStarts[dictBlocks + 1]  (byte offsets into the dictionary part)
//                     u32 dictCrcs[dictBlocks]        CRC-32 of each dictionary block
//                     u32 keyStarts[dictBlocks + 1]   first term of every dictionary block: offsets
//                     blob                            into this blob (UTF-8)
//   dictionary        blocks of DICT_BLOCK_TERMS terms (sorted by UTF-8 bytes), each 4-aligned:
//                     u32 count, u32 docFreq[count], u32 postingStarts[count + 1] (word offsets
//                     into the postings part), u32 postingCrcs[count] (CRC-32 of each term's
//                     postings), u32 keyStarts[count + 1], blob
//   postings          every term's words, one after another (block-postings.ts)
//   lengths           u32 exact token count per row (0 = row not indexed)
//   norms             u8 Lucene norm byte per row (intToByte4(length))
//
// The encoder is here; block-reader.ts reads a section by range and block-view.ts scores it. A
// term costs two reads after open: the term index (read at open, ≈ 20 bytes per 64 terms) names
// the dictionary block, the block gives docFreq and the postings range, then the postings. Each
// of those ranges carries its own CRC-32, so the section is never read or checked whole.
import type { AttributeValue } from '../../schema/types.ts';
import { crc32 } from 'node:zlib';
import { SectionWriter } from '../binary.ts';
import type { Analyzer } from './analyzer.ts';
import { encodePostings } from './block-postings.ts';
import { invertField, type InvertedField, type TextStats } from './disk-index.ts';

export const TEXT_FORMAT_BLOCKS = 2;
export const MAGIC = 0x3254_5854; // "TXT2" little-endian
export const HEADER_WORDS = 16;
/** Terms per dictionary block: a lookup reads one block (≈ 1–2 KB at 64 terms). */
export const DICT_BLOCK_TERMS = 64;

export function encodeBlockTextField(
  analyze: Analyzer,
  values: ReadonlyArray<AttributeValue | undefined>,
): { bytes: Buffer; stats: TextStats } {
  return encodeBlockInverted(invertField(analyze, values));
}

/** The section of an already inverted field (benchmarks build one without analysis). */
export function encodeBlockInverted(f: InvertedField): { bytes: Buffer; stats: TextStats } {
  const terms = f.terms.length;
  const dictBlocks = Math.ceil(terms / DICT_BLOCK_TERMS);

  const postingParts: Uint32Array[] = [];
  const wordStarts = new Uint32Array(terms + 1);
  const postingCrcs = new Uint32Array(terms);
  for (let t = 0; t < terms; t++) {
    const p = encodePostings(f.postingRows, f.postingTfs, f.norms, f.postingStarts[t]!, f.postingStarts[t + 1]!);
    postingParts.push(p);
    wordStarts[t + 1] = wordStarts[t]! + p.length;
    postingCrcs[t] = crc32(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  }

  const dict = new SectionWriter(terms * 16 + 64);
  const dictStarts = new Uint32Array(dictBlocks + 1);
  const firstKeys: Buffer[] = [];
  for (let d = 0; d < dictBlocks; d++) {
    const a = d * DICT_BLOCK_TERMS;
    const e = Math.min(terms, a + DICT_BLOCK_TERMS);
    firstKeys.push(f.terms[a]!);
    dict.u32(e - a);
    dict.array(Uint32Array.from({ length: e - a }, (_, i) => f.postingStarts[a + i + 1]! - f.postingStarts[a + i]!));
    dict.array(wordStarts.subarray(a, e + 1));
    dict.array(postingCrcs.subarray(a, e));
    dict.array(keyStarts(f.terms.slice(a, e)));
    for (let t = a; t < e; t++) dict.bytes(f.terms[t]!);
    dict.align(4);
    dictStarts[d + 1] = dict.length;
  }
  const dictBytes = dict.finish();
  const dictCrcs = Uint32Array.from({ length: dictBlocks }, (_, d) => crc32(dictBytes.subarray(dictStarts[d]!, dictStarts[d + 1]!)));

  const w = new SectionWriter(HEADER_WORDS * 4 + dictBytes.byteLength + wordStarts[terms]! * 4 + f.rows * 5 + 64);
  const header = new Uint32Array(HEADER_WORDS);
  w.array(header); // filled in below
  const termIndexOffset = w.length;
  w.array(dictStarts);
  w.array(dictCrcs);
  w.array(keyStarts(firstKeys));
  for (const k of firstKeys) w.bytes(k);
  w.align(8);
  const dictOffset = w.length;
  w.bytes(dictBytes);
  w.align(8);
  const postingsOffset = w.length;
  for (const p of postingParts) w.array(p);
  const postingsLength = w.length - postingsOffset;
  w.align(8);
  const lengthsOffset = w.length;
  w.array(f.lengths);
  const normsOffset = w.length;
  w.array(f.norms);
  const bytes = w.finish();
  if (bytes.byteLength > 0xffff_ffff) throw new RangeError('a text section over 4 GiB does not fit u32 offsets');
  header.set([MAGIC, f.rows, terms, dictBlocks, termIndexOffset, dictOffset, dictBytes.byteLength,
    postingsOffset, postingsLength, lengthsOffset, normsOffset,
    crc32(bytes.subarray(termIndexOffset, dictOffset)), crc32(bytes.subarray(normsOffset, normsOffset + f.rows)),
    crc32(bytes.subarray(lengthsOffset, lengthsOffset + f.rows * 4)), 0, 0]);
  bytes.set(new Uint8Array(header.buffer), 0);
  return { bytes, stats: f.stats };
}

function keyStarts(keys: readonly Buffer[]): Uint32Array {
  const starts = new Uint32Array(keys.length + 1);
  for (let i = 0; i < keys.length; i++) starts[i + 1] = starts[i]! + keys[i]!.byteLength;
  return starts;
}

