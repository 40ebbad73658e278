// Progress on stderr: a bar on a terminal (cli-progress), plain lines otherwise (CI, logs, tests).
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number): void;
  /** One step of `total` done. */
  tick(line: string): void;
  /** A line of news that is not a step. */
  log(line: string): void;
  stop(): void;
}

export function createProgress(tty: boolean = process.stderr.isTTY === true): Progress {
  return tty ? barProgress() : lineProgress((line) => process.stderr.write(`${line}\n`));
}

/** `[done/total] line`, one per step. */
export function lineProgress(write: (line: string) => void): Progress {
  let total = 0;
  let done = 0;
  return {
    start(n) {
      total = n;
      write(`bench: ${n} measurements to take`);
    },
    tick(line) {
      done++;
      write(`[${done}/${total}] ${line}`);
    },
    log: (line) => write(line),
    stop() {
      write(`bench: ${done}/${total} measurements taken`);
    },
  };
}

function barProgress(): Progress {
  const bars = new cliProgress.MultiBar(
    {
      format: 'bench {bar} {value}/{total} | {duration_formatted} elapsed, ETA {eta_formatted} | {last}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(n) {
      bar = bars.create(n, 0, { last: 'starting' });
    },
    tick(line) {
      bar?.increment(1, { last: line.slice(0, 60) });
      bars.log(`${line}\n`);
    },
    log(line) {
      bars.log(`${line}\n`);
    },
    stop() {
      bars.stop();
    },
  };
}
