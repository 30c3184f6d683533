import { pino, type Logger } from 'pino';

export type { Logger };

/** Secrets never reach the log: tokens and signatures are redacted wherever they appear. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization', 'req.headers["x-line-signature"]', 'req.headers["x-hub-signature-256"]',
        'req.headers["x-inbox-signature"]', 'req.headers.cookie', '*.accessToken', '*.channelSecret', '*.password',
      ],
      censor: '[redacted]',
    },
  });
}
