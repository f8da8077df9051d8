// Runs inside a thread of the build pool (build-pool.ts), once per build: collects the input from
// the task's MessagePort, where it arrives in chunks so that the parent's event loop never blocks
// on one big clone, builds the segment and sends the bytes back as a transferred ArrayBuffer.
// A failed build rejects the task; the thread stays and serves the next one.
import { setPriority } from 'node:os';
import { workerData, type MessagePort } from 'node:worker_threads';
import type { AttributeValue, DocId } from '../schema/types.ts';
import { buildSegmentSync, type SegmentInput } from './builder.ts';
import type { FromWorker, ToWorker } from './build-pool.ts';
import { collectInThread } from './collect.ts';

// indexing.build_nice, once per thread: on Linux setpriority(PRIO_PROCESS, 0) renices the calling
// thread only, so builds yield the cores to the main thread and the query pool and take what they
// leave (bench ingest-latency). Elsewhere it may renice the whole process, so it is Linux only; a
// refusal leaves builds at the priority they inherited, which is still correct.
const nice = (workerData as { nice?: number } | null)?.nice ?? 0;
if (nice > 0 && process.platform === 'linux') {
  try {
    setPriority(nice);
  } catch {
    // not permitted: builds keep the inherited priority
  }
}

export default function build(task: { port: MessagePort }): Promise<void> {
  const { port } = task;
  let start: Extract<ToWorker, { type: 'start' }> | undefined;
  let vectors: Float32Array = new Float32Array(0);
  const ids: DocId[] = [];
  const attributes: Record<string, AttributeValue>[] = [];

  return new Promise<void>((resolve, reject) => {
    port.on('message', (msg: ToWorker) => {
      try {
        if (msg.type === 'start') {
          start = msg;
          vectors = msg.vectors ?? new Float32Array(msg.rows * msg.schema.vector_dim);
        } else if (msg.type === 'rows') {
          if (start === undefined) throw new Error('build worker: rows before start');
          if (msg.vectors !== undefined) vectors.set(msg.vectors, ids.length * start.schema.vector_dim);
          for (const id of msg.ids) ids.push(id);
          for (const a of msg.attributes) attributes.push(a);
        } else {
          if (start === undefined) throw new Error('build worker: rows ended before start');
          const input: SegmentInput = {
            schema: start.schema,
            ids,
            vectors,
            hasVector: start.hasVector,
            attributes,
            hnsw: start.hnsw,
            ...(start.tmpDir !== undefined ? { tmpDir: start.tmpDir } : {}),
            ...(start.ivfFrom !== undefined ? { ivfFrom: start.ivfFrom } : {}),
          };
          const { bytes, meta } = buildSegmentSync(input);
          // A Buffer may share a pooled ArrayBuffer; only a buffer of its own can be transferred.
          const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
            ? bytes.buffer as ArrayBuffer
            : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
          const reply: FromWorker = { type: 'done', bytes: own, meta };
          port.postMessage(reply, [own]);
          port.close();
          vectors = new Float32Array(0);
          ids.length = 0;
          attributes.length = 0;
          resolve();
          // The input (a merge's every vector) is dead now: freed at once, not at this thread's next build.
          setImmediate(collectInThread);
        }
      } catch (e) {
        port.close();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
