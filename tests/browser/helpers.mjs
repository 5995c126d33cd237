// What the browser tests share: launching Debian's headless chromium, and opening, typing into,
// reading and fencing a tab of the chat page. Not named *.test.mjs, so `node --test` does not
// run it as a test file of its own.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

import { WAIT_MS } from './serve.mjs';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Starts headless chromium, or says how to install it. */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (bash scripts/test.sh does)`);
  }
  // playwright-core starts it with a fresh, empty profile (--user-data-dir) and --headless.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Collects (and dismisses) every dialog the page opens: a script run from a message would. */
export function watchDialogs(page) {
  const dialogs = [];
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  return dialogs;
}

/**
 * Opens the chat in a new tab and waits until its socket is connected and handled. Returns the
 * tab and its connection line from serve's trace.
 */
export async function openTab(context, serve, name) {
  const page = await context.newPage();
  const dialogs = watchDialogs(page);
  await page.goto(serve.url, { timeout: WAIT_MS });
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('connected as socket'), null, {
    timeout: WAIT_MS,
  });
  const sid = (await page.textContent('#status')).replace('connected as socket ', '');
  // The tutor names tabs in the order they connect; the trace line says which socket is which.
  const line = await serve.waitFor(`${name}'s connection`, (l) => l.kind === 'connect' && l.client === name);
  assert.equal(line.socket, sid, `${name} is the tab whose page shows socket ${sid}`);
  return { name, page, dialogs, line };
}

/** Types a message into a tab's form and sends it, as a person would. */
export async function type(tab, text) {
  await tab.page.fill('#input', text);
  await tab.page.press('#input', 'Enter');
}

/** The texts of the tab's message list, in order. */
export const messages = (tab) => tab.page.$$eval('#messages > li', (items) => items.map((li) => li.textContent));

/** Waits (bounded) until the tab shows `text` as a message of its own. */
export async function waitForMessage(tab, text) {
  try {
    await tab.page.waitForFunction(
      (text) => [...document.querySelectorAll('#messages > li')].some((li) => li.textContent === text),
      text,
      { timeout: WAIT_MS },
    );
  } catch (e) {
    const html = await tab.page.innerHTML('#messages');
    throw new Error(`${tab.name} did not show ${JSON.stringify(text)} as text within ${WAIT_MS} ms; its list is ${html}`);
  }
}

let fences = 0;

/** Resolves when everything the server queued for this tab before now has arrived. */
export function fence(tab) {
  fences += 1;
  return tab.page.evaluate(
    ([n, ms]) =>
      new Promise((resolve, reject) => {
        // `socket` is the page's own; its Manager multiplexes the new namespace over the same
        // connection. A fresh name each time: asking io() for a namespace it already knows
        // would open a second connection, and prove nothing about this one.
        const probe = socket.io.socket(`/tutor-fence-${n}`);
        const timer = setTimeout(() => reject(new Error('no answer to the fence')), ms);
        probe.on('connect_error', (err) => {
          clearTimeout(timer);
          probe.disconnect();
          resolve(err.message);
        });
      }),
    [fences, WAIT_MS],
  );
}
