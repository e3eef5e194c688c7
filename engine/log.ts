// Structured logs: one JSON object per line on stderr.
type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(component: string, level: Level): Logger {
  const emit = (l: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (order[l] < order[level]) return;
    const line: Record<string, unknown> = { time: new Date().toISOString(), level: l, component, msg, ...fields };
    for (const [k, v] of Object.entries(line)) if (v instanceof Error) line[k] = { message: v.message, stack: v.stack };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
