// A real browser against `realtime-tutor serve 6`, the chat that stores its messages in SQLite:
// two tabs chat, one is closed, the other keeps talking, and the closed one is opened again. The
// page connects with `auth: { serverOffset }` (0 for a fresh page), so the server replays what
// is stored after it: the reopened tab shows what was said while it was closed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launchChromium, messages, openTab, type } from './helpers.mjs';
import { WAIT_MS, startServe } from './serve.mjs';

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

async function waitForMessages(tab, wanted) {
  try {
    await tab.page.waitForFunction(
      (n) => document.querySelectorAll('#messages > li').length >= n,
      wanted.length,
      { timeout: WAIT_MS },
    );
  } catch (e) {
    throw new Error(`${tab.name} did not show ${JSON.stringify(wanted)} within ${WAIT_MS} ms: ${JSON.stringify(await messages(tab))}`);
  }
  assert.deepEqual(await messages(tab), wanted, `${tab.name}'s messages`);
}

test('a tab reopened on serve 6 shows what was said while it was closed', { timeout: 90_000 }, async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'realtime-tutor-browser-')), 'chat.sqlite3');
  const serve = await startServe(['6', '--db', db]);
  const context = await browser.newContext({ viewport: { width: 460, height: 340 } });
  try {
    const one = await openTab(context, serve, 'tab-1');
    const two = await openTab(context, serve, 'tab-2');
    await type(one, 'before');
    await waitForMessages(one, ['before']);
    await waitForMessages(two, ['before']);

    await two.page.close();
    await serve.waitFor("tab-2's goodbye", (l) => l.kind === 'disconnect' && l.client === 'tab-2');
    await type(one, 'while you were away');
    await type(one, 'and this too');
    await waitForMessages(one, ['before', 'while you were away', 'and this too']);

    // A fresh page: serverOffset 0, so the whole stored history comes back, in order.
    const again = await openTab(context, serve, 'tab-3');
    await waitForMessages(again, ['before', 'while you were away', 'and this too']);
  } finally {
    await context.close();
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});
