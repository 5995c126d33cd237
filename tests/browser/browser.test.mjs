// A real browser against `realtime-tutor serve 3`: Debian's headless chromium, driven by
// playwright-core. Two tabs open the chat page; a message typed in one appears in both with
// io.emit, and only in the other with --broadcast; markup in a message stays text.
//
// As in clients.test.mjs, "did not appear" is decided by ordering: the page's own Socket.IO
// connection is asked to join a namespace that does not exist, and the refusal arrives after
// everything queued for that tab before it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { fence, launchChromium, messages, openTab as openChatTab, type, waitForMessage } from './helpers.mjs';
import { artifactsDir, startServe } from './serve.mjs';

const XSS = '<img src=x onerror=alert(1)>';

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** Opens the chat in a new tab (see helpers.mjs); the trace names it a browser. */
async function openTab(context, serve, name) {
  const tab = await openChatTab(context, serve, name);
  assert.equal(tab.line.client_kind, 'browser');
  return tab;
}

/** Puts two screenshots side by side, captioned, and saves the result. */
async function sideBySide(context, shots, title, file) {
  const page = await context.newPage();
  const figures = shots
    .map(
      ({ caption, png }) =>
        `<figure><img src="data:image/png;base64,${png.toString('base64')}"><figcaption>${caption}</figcaption></figure>`,
    )
    .join('');
  await page.setViewportSize({ width: 980, height: 420 });
  await page.setContent(
    `<style>body{margin:0;padding:12px;font:15px system-ui,sans-serif;background:#fff}
       h1{font-size:16px;margin:0 0 10px} div{display:flex;gap:16px} figure{margin:0}
       img{border:1px solid #999;display:block} figcaption{margin-top:6px;color:#333}</style>
     <h1>${title}</h1><div>${figures}</div>`,
  );
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(join(artifactsDir(), file), png);
  await page.close();
}

for (const [flag, file] of [
  [[], 'chat-two-tabs.png'],
  [['--broadcast'], 'chat-two-tabs-broadcast.png'],
]) {
  const broadcast = flag.length > 0;
  test(`two tabs chat through serve 3 ${broadcast ? '--broadcast' : '(io.emit)'}`, { timeout: 90_000 }, async () => {
    const serve = await startServe(['3', ...flag]);
    const context = await browser.newContext({ viewport: { width: 460, height: 340 } });
    try {
      const one = await openTab(context, serve, 'tab-1');
      const two = await openTab(context, serve, 'tab-2');

      // tab-1 types; the server answers with io.emit or socket.broadcast.emit.
      await type(one, 'hello from tab-1');
      const line = await serve.waitFor("tab-1's message", (l) => l.kind === 'emit' && l.client === 'tab-1');
      assert.deepEqual(line.args, ['hello from tab-1']);
      assert.deepEqual(line.sent_to, broadcast ? ['tab-2'] : ['tab-1', 'tab-2']);
      await waitForMessage(two, 'hello from tab-1');
      if (broadcast) {
        assert.equal(await fence(one), 'Invalid namespace');
        assert.deepEqual(await messages(one), [], 'a broadcast leaves the sender out');
      } else {
        await waitForMessage(one, 'hello from tab-1');
      }

      // tab-2 sends markup: it must arrive as text and run nothing.
      await type(two, XSS);
      await serve.waitFor("tab-2's markup message", (l) => l.kind === 'emit' && l.client === 'tab-2');
      await waitForMessage(one, XSS);
      if (!broadcast) await waitForMessage(two, XSS);
      for (const tab of [one, two]) {
        assert.equal(await fence(tab), 'Invalid namespace');
        assert.equal(await tab.page.locator('img').count(), 0, `${tab.name} made no img element`);
        assert.deepEqual(tab.dialogs, [], `${tab.name} ran no script from the message`);
      }
      assert.deepEqual(await messages(one), broadcast ? [XSS] : ['hello from tab-1', XSS]);
      assert.deepEqual(await messages(two), broadcast ? ['hello from tab-1'] : ['hello from tab-1', XSS]);

      const how = broadcast ? "socket.broadcast.emit('chat message', msg)" : "io.emit('chat message', msg)";
      await sideBySide(
        context,
        [
          { caption: 'tab-1: typed "hello from tab-1"', png: await one.page.screenshot() },
          { caption: `tab-2: typed "${XSS.replaceAll('<', '&lt;')}"`, png: await two.page.screenshot() },
        ],
        `realtime-tutor serve 3${broadcast ? ' --broadcast' : ''}: the server answers with ${how}`,
        file,
      );
    } finally {
      await context.close();
      const stopped = await serve.stop();
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  });
}
