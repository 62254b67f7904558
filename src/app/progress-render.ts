import type { Progress } from '../lib/progress.js';

/**
 * Renders progress for the CLI: a self-updating line with bytes, rate and ETA on a TTY, JSON
 * lines with --json, nothing otherwise. Writes to stderr so stdout stays for results.
 */
export function cliProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, json: boolean): Progress {
  let name = '';
  let total: number | undefined;
  let unit = 'bytes';
  let done = 0;
  let started = 0;
  let lastDraw = 0;
  const line = (final: boolean): void => {
    const now = performance.now();
    if (!final && now - lastDraw < (json ? 1000 : 200)) return;
    lastDraw = now;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = total !== undefined && rate > 0 ? Math.max(0, (total - done) / rate) : undefined;
    if (json) {
      stream.write(
        `${JSON.stringify({ type: 'progress', phase: name, done, total: total ?? null, unit, rate: Math.round(rate), etaSeconds: eta === undefined ? null : Math.round(eta), final })}\n`,
      );
      return;
    }
    const amount =
      unit === 'bytes' ? `${mb(done)}${total ? ` / ${mb(total)}` : ''} MB` : `${done}${total ? ` / ${total}` : ''} ${unit}`;
    const speed = unit === 'bytes' ? `${mb(rate)} MB/s` : `${rate.toFixed(0)} ${unit}/s`;
    const pct = total ? ` ${Math.min(100, (done / total) * 100).toFixed(0)}%` : '';
    const etaText = eta === undefined || final ? '' : ` ETA ${formatEta(eta)}`;
    stream.write(`\r${name}:${pct} ${amount} ${speed}${etaText}\u001b[K${final ? '\n' : ''}`);
  };
  if (!json && !stream.isTTY) return { phase: () => {}, advance: () => {}, done: () => {} };
  return {
    phase(phase, t, u) {
      name = phase;
      total = t;
      unit = u ?? 'bytes';
      done = 0;
      started = performance.now();
      lastDraw = 0;
    },
    advance(amount) {
      done += amount;
      line(false);
    },
    done() {
      line(true);
    },
  };
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

function formatEta(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
