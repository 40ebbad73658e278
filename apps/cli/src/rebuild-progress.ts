// How far a rebuild of the read models is, on stderr: a bar on a terminal (cli-progress), else a line every 10%.
import cliProgress from 'cli-progress';

export interface RebuildBar {
  update(position: number, last: number): void;
  stop(): void;
}

/** A bar on a terminal; `lines` otherwise (CI, logs, tests). */
export function rebuildBar(tty: boolean, lines: (line: string) => void): RebuildBar {
  return tty ? terminalBar() : lineBar(lines);
}

function terminalBar(): RebuildBar {
  const bar = new cliProgress.SingleBar(
    {
      format: 'replaying the log {bar} {percentage}% | position {value}/{total} | {duration_formatted}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(position, last) {
      if (!started) bar.start(Math.max(last, 1), 0);
      started = true;
      bar.update(Math.min(position, last));
    },
    stop: () => bar.stop(),
  };
}

function lineBar(write: (line: string) => void): RebuildBar {
  let shown = -1;
  return {
    update(position, last) {
      const tenth = last === 0 ? 10 : Math.floor((Math.min(position, last) / last) * 10);
      if (tenth <= shown) return;
      shown = tenth;
      write(`replaying the log: position ${position} of ${last} (${tenth * 10}%)`);
    },
    stop: () => undefined,
  };
}
