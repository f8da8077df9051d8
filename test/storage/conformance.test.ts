import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LocalFsObjectStore } from '../../src/storage/local-fs.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { S3ObjectStore } from '../../src/storage/s3.ts';
import { startS3Server } from '../support/s3-server.ts';
import { objectStoreConformance } from './conformance-suite.ts';

objectStoreConformance('memory', async () => ({
  store: new MemoryObjectStore(),
  cleanup: async () => {},
}));

objectStoreConformance('local-fs', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'silt-localfs-'));
  return {
    store: new LocalFsObjectStore(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

objectStoreConformance('s3 (s3rver)', async () => {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'silt-s3rver-'));
  const server = await startS3Server({ directory });
  const store = new S3ObjectStore({
    bucket: server.bucket,
    region: 'us-east-1',
    endpoint: server.endpoint,
    requestTimeoutMs: 10_000,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    store,
    cleanup: async () => {
      store.close();
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
});
