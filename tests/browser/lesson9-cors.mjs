// Lesson 9.1 in a real browser: only a browser applies CORS, so only a browser shows what a page on
// another origin gets from a Socket.IO server that does not allow it.
//
//   node tests/browser/lesson9-cors.mjs [--fixed] [--websocket]
//
// Starts `tests/node/lesson9.js --stage 1 [--fixed]` (socket.io 4.8.4, and a page on a second port,
// another origin, that connects with socket.io-client 4.8.4), opens the page in headless chromium,
// and prints one JSON object: what socket.io-client reported in the page (its first connect or
// connect_error), the browser console's errors, and what the server logged. With --websocket the page
// skips long-polling (`transports: ['websocket']`). Every wait is bounded.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { launchChromium } from './helpers.mjs';
import { bounded, WAIT_MS } from './serve.mjs';

const FIXTURE = fileURLToPath(new URL('../node/lesson9.js', import.meta.url));

/** Starts the stage-1 fixture; resolves with its ports, its log lines so far, and `stop`. */
async function startFixture(fixed) {
  const child = spawn(process.execPath, [FIXTURE, '--stage', '1', ...(fixed ? ['--fixed'] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = [];
  let first = true;
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (first) first = false;
      else if (line.startsWith('{"ready"')) resolve(JSON.parse(line));
      else lines.push(JSON.parse(line));
    });
    child.on('exit', (code) => reject(new Error(`lesson9.js exited with ${code} before it was ready`)));
  });
  const ports = await bounded(ready, 'lesson9.js --stage 1 to print its ports');
  return { ports, lines, stop: () => child.kill() };
}

/** What the page's socket.io-client reports, with and without the server's `cors` option. */
export async function corsReport(fixed, transport = null) {
  const fixture = await startFixture(fixed);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const console = [];
    page.on('console', (m) => m.type() === 'error' && console.push(m.text()));
    await page.goto(`http://127.0.0.1:${fixture.ports.page}/${transport ? `?transport=${transport}` : ''}`, { timeout: WAIT_MS });
    await page.waitForFunction(() => window.lessonReport !== undefined, null, { timeout: WAIT_MS });
    const report = await page.evaluate(() => window.lessonReport);
    // Ports change from run to run: name them instead.
    const name = (text) =>
      text.replaceAll(String(fixture.ports.page), 'PAGE').replaceAll(String(fixture.ports.server), 'SERVER');
    return {
      fixed,
      transport: transport ?? 'default',
      page_origin: 'http://127.0.0.1:PAGE',
      server: 'http://127.0.0.1:SERVER',
      client: report,
      console: console.map((t) => name(t).replace(/&t=[\w-]+/, '&t=…')),
      server_log: fixture.lines,
    };
  } finally {
    await browser.close();
    fixture.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const transport = process.argv.includes('--websocket') ? 'websocket' : null;
  const report = await corsReport(process.argv.includes('--fixed'), transport);
  console.log(JSON.stringify(report));
}
