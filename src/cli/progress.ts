/**
 * A progress bar on stderr: redrawn in place on a terminal, a plain line every 10% otherwise
 * (logs and CI), so long runs always show they are alive.
 */
export interface Progress {
  tick(label: string): void;
  done(): void;
}

/** `perSecond`: show the rate as items per second with this unit (`12.5 fps`) instead of seconds per item. */
export function progressBar(
  total: number,
  title: string,
  stream: NodeJS.WriteStream = process.stderr,
  options: { perSecond?: string } = {},
): Progress {
  const started = Date.now();
  let count = 0;
  let lastDecile = -1;
  const render = (label: string) => {
    const elapsed = (Date.now() - started) / 1000;
    const rate =
      count === 0
        ? ''
        : options.perSecond
          ? `${(count / Math.max(elapsed, 1e-3)).toFixed(1)} ${options.perSecond}`
          : `${(elapsed / count).toFixed(2)} s/item`;
    if (stream.isTTY) {
      const width = 24;
      const filled = Math.min(width, Math.round((width * count) / Math.max(total, 1)));
      stream.write(
        `\r${title} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${rate} ${label}`
          .slice(0, stream.columns ?? 120)
          .padEnd(Math.min(stream.columns ?? 120, 120)),
      );
    } else {
      const decile = Math.floor((10 * count) / Math.max(total, 1));
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(`${title}: ${count}/${total} ${rate}\n`);
      }
    }
  };
  render('');
  return {
    tick(label: string) {
      count++;
      render(label);
    },
    done() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}
