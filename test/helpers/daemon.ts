import { setTimeout as sleep } from 'node:timers/promises';

/** The base URL a daemon started by `startLifeboat` announced in its JSON log. */
export async function apiBase(stderr: () => string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const m = /"listen":"([\d.]+:\d+)"/.exec(stderr());
    if (m?.[1]) return `http://${m[1]}`;
    await sleep(100);
  }
  throw new Error(`the daemon did not announce its API address:\n${stderr().slice(-2000)}`);
}

/** Polls `fn` every 200 ms until it returns a value; throws naming `what` after `ms`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
