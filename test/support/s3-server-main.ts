// Runs the S3 test server as its own process, for integration tests that start Silt as real
// processes:  tsx test/support/s3-server-main.ts --dir D [--port P] [--bucket B]
// Prints one JSON line {"endpoint","bucket","port"} on stdout when ready; stops on SIGTERM/SIGINT.

import { parseArgs } from 'node:util';
import { startS3Server } from './s3-server.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    port: { type: 'string', default: '0' },
    bucket: { type: 'string', default: 'silt-test' },
  },
});
if (values.dir === undefined) {
  process.stderr.write('usage: s3-server-main.ts --dir DIRECTORY [--port PORT] [--bucket BUCKET]\n');
  process.exit(2);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be an integer 0..65535, got ${values.port}\n`);
  process.exit(2);
}

const server = await startS3Server({ directory: values.dir, port, bucket: values.bucket });
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, bucket: server.bucket, port: server.port })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.stop().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`s3 test server: stop failed: ${String(e)}\n`);
    process.exit(1);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
