// What the query executor reads from a set of rows: the in-memory tail or a segment (with its
// deletions applied). Row numbers are local to the source.
import type { AttributeValue, DocId } from '../schema/types.ts';
import type { TextIndexView } from './text/index-view.ts';

export interface RowSource {
  readonly rowCount: number;
  isLive(row: number): boolean;
  id(row: number): DocId;
  /** Offset of the row's vector in vectorData(), or -1 when the row has no vector. */
  vectorOffset(row: number): number;
  vectorData(): Float32Array;
  vectorNorm(row: number): number;
  attributes(row: number): Record<string, AttributeValue>;
  textIndex(field: string): TextIndexView | undefined;
}
