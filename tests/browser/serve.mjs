// Starts `realtime-tutor serve` for a test and follows its JSON live trace.
//
// The binary comes from REALTIME_TUTOR_BIN (the Rust suite sets it) or target/debug. Every wait
// is bounded and, when it expires, says what it waited for and shows the trace so far.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BIN =
  process.env.REALTIME_TUTOR_BIN ?? fileURLToPath(new URL('../../target/debug/realtime-tutor', import.meta.url));

/** The bound on every single wait, in milliseconds. */
export const WAIT_MS = 10_000;

/** Where screenshots go: `test-artifacts/` at the top of the repository (ignored by git). */
export function artifactsDir() {
  const dir = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** How long `stop` waits after Ctrl-C before it kills the process, in milliseconds. */
const STOP_MS = 10_000;

/** Rejects with a message naming `what` if `promise` takes longer than `ms`. */
export function bounded(promise, what, ms = WAIT_MS) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Runs `realtime-tutor serve <args> --port 0 --format json` and resolves once it listens.
 * The result has `url`, `lines` (every trace record so far), `waitFor` and `stop`.
 */
export async function startServe(args) {
  if (!existsSync(BIN)) {
    throw new Error(`no realtime-tutor binary at ${BIN}: run \`cargo build\` or set REALTIME_TUTOR_BIN`);
  }
  const child = spawn(BIN, ['serve', ...args, '--port', '0', '--format', 'json', '--color', 'never'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let waiters = [];
  let stderr = '';
  let exit = null;
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const settle = () => {
    waiters = waiters.filter((w) => {
      const found = lines.find(w.predicate);
      if (found) w.resolve(found);
      else if (exit) w.reject(new Error(`serve exited (${JSON.stringify(exit)}) while we waited for ${w.what}; stderr: ${stderr}`));
      return !found && !exit;
    });
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(JSON.parse(line));
    settle();
  });
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      settle();
      resolve(exit);
    }),
  );

  const serve = {
    lines,
    child,
    /** Resolves with the first trace record that matches `predicate` (bounded). */
    waitFor(what, predicate) {
      const waiting = new Promise((resolve, reject) => {
        waiters.push({ what, predicate, resolve, reject });
        settle();
      });
      return bounded(waiting, what).catch((e) => {
        e.message += `\ntrace so far:\n${lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${stderr}`;
        throw e;
      });
    },
    /**
     * Ctrl-C; resolves with the exit code and signal once the process has ended. If it has not
     * ended within STOP_MS, it is killed (SIGKILL) and the promise rejects saying so: a process
     * left running would keep its port, and its pipes would keep `node --test` alive.
     */
    async stop() {
      if (!exit) child.kill('SIGINT');
      try {
        const result = await bounded(exited, 'serve to exit after Ctrl-C', STOP_MS);
        return { ...result, stderr };
      } catch (e) {
        await kill();
        e.message += `; it was killed (SIGKILL)\nstderr: ${stderr}`;
        throw e;
      }
    },
  };
  /** SIGKILL, then wait (bounded) for the exit; a SIGKILL cannot be refused, so this is quick. */
  const kill = async () => {
    if (!exit) child.kill('SIGKILL');
    await bounded(exited, 'serve to exit after SIGKILL').catch(() => {});
  };
  try {
    const listening = await serve.waitFor('the listening line', (l) => l.kind === 'listening');
    serve.url = listening.url;
  } catch (e) {
    // The caller gets no handle to stop it with: end the process here.
    await kill();
    throw e;
  }
  return serve;
}
