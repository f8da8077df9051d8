// Deletion lists inside the manifest: ascending row numbers as delta-encoded varints, base64.
// 1M deleted rows in runs cost about 1–2 bytes each, so the manifest stays small enough to
// rewrite on every commit.

export function encodeRowSet(rows: ArrayLike<number>): string {
  const out: number[] = [];
  let prev = -1;
  for (let i = 0; i < rows.length; i++) {
    let delta = rows[i]! - prev - 1;
    if (delta < 0) throw new Error('row set must be strictly ascending');
    prev = rows[i]!;
    while (delta >= 0x80) {
      out.push((delta & 0x7f) | 0x80);
      delta = Math.floor(delta / 128);
    }
    out.push(delta);
  }
  return Buffer.from(out).toString('base64');
}

export function decodeRowSet(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  const rows: number[] = [];
  let prev = -1;
  let i = 0;
  while (i < bytes.length) {
    let delta = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[i++];
      if (b === undefined) throw new Error('truncated row set');
      delta += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    prev = prev + 1 + delta;
    rows.push(prev);
  }
  return rows;
}
