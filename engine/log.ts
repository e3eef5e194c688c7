// Structured logs: one JSON object per line on stderr, written by pino. The call interface stays
// `log.info(msg, fields)`; `child(fields)` binds fields (a request id, a shard) to every line of a logger.
import { hostname } from 'node:os';
import { pino, stdSerializers, stdTimeFunctions, type Logger as Pino } from 'pino';

type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Whether lines of this level are written (to skip building the fields of a line nobody reads). */
  enabled(level: Exclude<Level, 'silent'>): boolean;
  /** A logger whose every line also carries these fields. */
  child(fields: Record<string, unknown>): Logger;
}

/** Errors anywhere among a line's fields become `{type, message, stack}` (pino does it only for `err`). */
function withErrors(fields: Record<string, unknown>): Record<string, unknown> {
  for (const k in fields) {
    if (k !== 'err' && fields[k] instanceof Error) {
      return Object.fromEntries(Object.entries(fields).map(([key, v]) => [key, key !== 'err' && v instanceof Error ? stdSerializers.err(v) : v]));
    }
  }
  return fields;
}

function wrap(p: Pino): Logger {
  const emit = (l: Exclude<Level, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => {
    if (!p.isLevelEnabled(l)) return;
    if (fields) p[l](withErrors(fields), msg);
    else p[l](msg);
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    enabled: (l) => p.isLevelEnabled(l),
    child: (fields) => wrap(p.child(withErrors(fields))),
  };
}

/**
 * A logger for one part of the program (`component` on every line). Lines are written synchronously, as
 * process.stderr.write did before pino, so that the last lines before an exit are never lost.
 */
export function createLogger(component: string, level: Level): Logger {
  return wrap(
    pino(
      {
        level,
        base: { component, pid: process.pid, hostname: hostname() },
        messageKey: 'msg',
        timestamp: stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        serializers: { err: stdSerializers.err },
      },
      pino.destination({ dest: 2, sync: true }),
    ),
  );
}
