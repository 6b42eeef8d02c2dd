/** One line of a process's JSON log (pino), or a plain line read as an info message. */
export interface LogLine {
  msg: string;
  level: number;
  [key: string]: unknown;
}

export function parseLogLine(line: string): LogLine {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return { msg: line, level: 30 };
  }
}
