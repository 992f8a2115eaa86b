/**
 * A progress bar on stderr: redrawn in place on a terminal, a plain line every 10% otherwise
 * (logs and CI), so long runs always show they are alive.
 */
export interface Progress {
  tick(label: string): void;
  done(): void;
}

export function progressBar(total: number, title: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  let count = 0;
  let lastDecile = -1;
  const render = (label: string) => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = count > 0 ? `${(elapsed / count).toFixed(2)} s/item` : '';
    if (stream.isTTY) {
      const width = 24;
      const filled = Math.round((width * count) / total);
      stream.write(`\r${title} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${rate} ${label}`.slice(0, stream.columns ?? 120).padEnd(Math.min(stream.columns ?? 120, 120)));
    } else {
      const decile = Math.floor((10 * count) / total);
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
