// pino, configured from [logging]: JSON lines by default, or one readable line per event.
import { pino, type Logger } from 'pino';
import type { SiltConfig } from './config/index.ts';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Formats pino's JSON lines as `time LEVEL msg key=value …`, without another dependency. */
function textStream(out: NodeJS.WritableStream) {
  return {
    write(line: string) {
      const { time, level, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line) as Record<string, unknown>;
      const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      out.write(`${new Date(time as number).toISOString()} ${LEVELS[level as number] ?? level} ${msg ?? ''} ${fields.join(' ')}\n`);
    },
  };
}

/** `destination` defaults to stdout; tests pass a stream to read what would be logged. */
export function createLogger(cfg: SiltConfig['logging'], nodeId: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level: cfg.level,
    base: { node: nodeId },
    redact: [
      'req.headers.authorization', 'req.headers["x-silt-cluster-token"]', 'req.headers["x-amz-security-token"]',
      '*.secretAccessKey', '*.api_keys', '*.read_only_keys', '*.cluster_token',
    ],
  };
  if (cfg.format === 'text') return pino(options, textStream(destination ?? process.stdout));
  return destination ? pino(options, destination) : pino(options);
}
