// The live diagram page `/tutor/` of `realtime-tutor serve`, in Debian's headless chromium.
// Run by the Rust suite (tests/suite/serve_tutor.rs) as `node --test tutor.mjs`.
//
// * serve 3 --bots 1, two chat tabs and the /tutor/ page: every message appears as arrows to
//   exactly the tabs and bots the server's own trace says it was sent to (dashed "sent" for a
//   tab, solid "read" for a bot that reported reading it), within a second; markup in a message
//   stays text on the diagram page (no dialog, no element made from it).
// * serve 3 --broadcast: the sender's lane gets a "not delivered" mark with the server's reason.
// * serve 8: the control strip's namespace form joins /admin over the tab's connection, with
//   the auth the middleware reads; a refusal shows the connect_error.
// * serve 4: the chat page's control strip, generated from the stage's handlers, lets a tab join
//   a room; a room emit then reaches only it. serve 5: a tab asks with an acknowledgement and
//   shows the answer. serve 3's chat page has no strip.
//
// * serve 7 --bots 2: two servers joined by Redis, one lane each; a message is drawn from its
//   server's lane to that server's own sockets, and from the other server's lane to the sockets
//   that server's part of the broadcast reached (its "relayed" list).
//
// "Did not receive" is decided by ordering (the page's socket is asked for a namespace that does
// not exist; the refusal comes after everything queued before it), never by waiting.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { fence, launchChromium, messages, openTab, type, waitForMessage, watchDialogs } from './helpers.mjs';
import { WAIT_MS, artifactsDir, startServe } from './serve.mjs';

const XSS = '<img src=x onerror=alert(1)><script>window.pwned=1</script>';
/** How soon a message must be on the diagram after it is sent. */
const LIVE_MS = 1000;

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** Opens the diagram page and waits until it follows the live records. */
async function openViewer(context, serve) {
  const page = await context.newPage();
  const dialogs = watchDialogs(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(new URL('/tutor/', serve.url).href, { timeout: WAIT_MS });
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('live'), null, { timeout: WAIT_MS });
  return { page, dialogs, errors };
}

/** The diagram's label of an emit, as diagram.js's `describe` writes it. */
const label = (event, args) => (args.length === 0 ? `'${event}'` : `'${event}' ${args.map((a) => JSON.stringify(a)).join(', ')}`);
/** The caption time of a record, as live.js writes it. */
const stepOf = (record) => `${(record.t_ms / 1000).toFixed(3)} s`;

/** The arrows drawn for one record (same time, same label), as {to, read}, sorted. */
function arrowsOf(viewer, record) {
  return viewer.page.$$eval(
    'svg.rt-diagram line[data-to]',
    (lines, [step, text]) =>
      lines
        .filter((l) => l.dataset.step === step && l.dataset.label === text)
        .map((l) => ({ to: l.dataset.to, read: l.dataset.read === 'true', dashed: l.classList.contains('rtd-queued') }))
        .sort((a, b) => a.to.localeCompare(b.to)),
    [stepOf(record), label(record.event, record.args)],
  );
}

/** What the trace says the arrows must be: one per socket the packet was queued for. */
const expected = (record) =>
  [...record.sent_to].sort().map((to) => ({ to, read: record.read_by.includes(to), dashed: !record.read_by.includes(to) }));

/** Waits (bounded by `ms`) until the record is drawn, then checks its arrows exactly. */
async function drawnAsTraced(viewer, record, ms = WAIT_MS) {
  const want = expected(record);
  try {
    await viewer.page.waitForFunction(
      ([step, text, n]) =>
        [...document.querySelectorAll('svg.rt-diagram line[data-to]')].filter((l) => l.dataset.step === step && l.dataset.label === text).length >= n,
      [stepOf(record), label(record.event, record.args), want.length],
      { timeout: ms, polling: 'raf' },
    );
  } catch (e) {
    throw new Error(`the diagram did not draw ${JSON.stringify(record)} within ${ms} ms: ${e.message}`);
  }
  assert.deepEqual(await arrowsOf(viewer, record), want, `arrows of ${JSON.stringify(record)}`);
}

test('serve 3 --bots 1: two tabs and a bot, every message drawn as arrows to exactly its recipients', { timeout: 90_000 }, async (t) => {
  const serve = await startServe(['3', '--bots', '1']);
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  try {
    const viewer = await openViewer(context, serve);
    // The bot's greeting came before the page opened: the page gets it from the backlog.
    const greeting = await serve.waitFor("alice's greeting", (l) => l.kind === 'emit' && l.client === 'alice');
    await drawnAsTraced(viewer, greeting);
    const one = await openTab(context, serve, 'tab-1');
    const two = await openTab(context, serve, 'tab-2');

    for (const [tab, text] of [
      [one, 'hello from tab-1'],
      [two, XSS],
    ]) {
      // Timed by the browser itself, so that the test's own polling is not counted: the tab
      // notes when its form is submitted, the diagram page when the arrows are in its SVG
      // (one clock: both pages run in one browser on this machine).
      await tab.page.evaluate(() =>
        document.getElementById('form').addEventListener('submit', () => (window.sentAt = Date.now()), { once: true, capture: true }),
      );
      const drawn = viewer.page.evaluate(
        ([text, n, ms]) =>
          new Promise((resolve, reject) => {
            const count = () => [...document.querySelectorAll('svg.rt-diagram line[data-to]')].filter((l) => l.dataset.label === text).length;
            const timer = setTimeout(() => reject(new Error(`not drawn within ${ms} ms`)), ms);
            const seen = () => {
              if (count() < n) return;
              clearTimeout(timer);
              observer.disconnect();
              resolve(Date.now());
            };
            const observer = new MutationObserver(seen);
            observer.observe(document.getElementById('diagram'), { childList: true, subtree: true });
            seen();
          }),
        [label('chat message', [text]), 3, WAIT_MS],
      );
      await type(tab, text);
      const record = await serve.waitFor(`${tab.name}'s message`, (l) => l.kind === 'emit' && l.client === tab.name && l.args[0] === text);
      assert.deepEqual(record.sent_to, ['alice', 'tab-1', 'tab-2'], 'io.emit reaches everyone');
      assert.deepEqual(record.read_by, ['alice'], 'only the bot reports reading');
      const took = (await drawn) - (await tab.page.evaluate(() => window.sentAt));
      t.diagnostic(`${tab.name}'s message drawn on /tutor/ ${took} ms after its form was submitted`);
      assert.ok(took <= LIVE_MS, `drawn ${took} ms after it was sent`);
      await drawnAsTraced(viewer, record);
      await waitForMessage(one, text);
      await waitForMessage(two, text);
    }

    // A bot's message, sent while the tabs are there: read by the bot, sent to both tabs.
    const chat = await serve.waitFor('a message from the bot after the tabs joined', (l) => l.kind === 'emit' && l.client === 'alice' && l.sent_to.length === 3);
    await drawnAsTraced(viewer, chat);

    // The markup stayed text: shown as its characters, run nowhere, no element made from it.
    for (const tab of [one, two]) assert.equal(await fence(tab), 'Invalid namespace');
    const texts = await viewer.page.$$eval('svg.rt-diagram text', (ts) => ts.map((t) => t.textContent));
    assert.ok(texts.some((t) => t.includes('<img src=x onerror=alert(1)>')), 'the payload is on the page as text');
    assert.equal(await viewer.page.locator('img, script:not([src]), svg image, svg foreignObject').count(), 0);
    assert.equal(await viewer.page.evaluate(() => window.pwned), undefined);
    assert.deepEqual(viewer.dialogs, [], 'no script ran on the diagram page');
    assert.deepEqual(viewer.errors, [], 'the diagram page raised no errors');
    for (const tab of [one, two]) assert.deepEqual(tab.dialogs, []);

    // A tab that leaves ends its lane.
    await two.page.close();
    await serve.waitFor("tab-2's leaving", (l) => l.kind === 'disconnect' && l.client === 'tab-2');
    await viewer.page.waitForFunction(() => [...document.querySelectorAll('svg.rt-diagram text')].some((t) => t.textContent === 'disconnect'), null, {
      timeout: WAIT_MS,
    });

    // Every emit the trace holds so far is drawn exactly as the trace says.
    for (const record of serve.lines.filter((l) => l.kind === 'emit')) await drawnAsTraced(viewer, record);

    const png = await viewer.page.screenshot({ fullPage: true });
    writeFileSync(join(artifactsDir(), 'tutor-live-serve-3.png'), png);
  } finally {
    await context.close();
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

test('serve 3 --broadcast: the sender is marked not delivered, with the server\'s reason', { timeout: 60_000 }, async () => {
  const serve = await startServe(['3', '--broadcast']);
  const context = await browser.newContext({ viewport: { width: 900, height: 500 } });
  try {
    const viewer = await openViewer(context, serve);
    const one = await openTab(context, serve, 'tab-1');
    await openTab(context, serve, 'tab-2');
    await type(one, 'only for the others');
    const record = await serve.waitFor("tab-1's message", (l) => l.kind === 'emit' && l.client === 'tab-1');
    assert.deepEqual(record.sent_to, ['tab-2']);
    assert.deepEqual(record.why_not, { 'tab-1': 'the sender' });
    await drawnAsTraced(viewer, record);
    assert.match(await viewer.page.textContent('#stage'), /stage 2 · socket\.broadcast\.emit/, 'names the stage that runs what is served');
    await viewer.page.waitForFunction(
      () => [...document.querySelectorAll('svg.rt-diagram text')].some((t) => t.textContent === "not delivered: 'chat message' (the sender)"),
      null,
      { timeout: WAIT_MS },
    );
    writeFileSync(join(artifactsDir(), 'tutor-live-serve-3-broadcast.png'), await viewer.page.screenshot({ fullPage: true }));
  } finally {
    await context.close();
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

/** Submits the control strip's form for `event`, with `args` (JSON, without brackets) if given. */
async function useControl(tab, event, args) {
  const form = tab.page.locator(`#controls form[data-event="${event}"]`);
  if (args != null) await form.locator('input').fill(args);
  await form.locator('button').click();
}

test('serve 4: a tab joins a room from the control strip, and a room emit reaches only it', { timeout: 60_000 }, async () => {
  const serve = await startServe(['4']);
  const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
  try {
    const viewer = await openViewer(context, serve);
    const one = await openTab(context, serve, 'tab-1');
    const two = await openTab(context, serve, 'tab-2');
    for (const tab of [one, two]) {
      await tab.page.waitForSelector('#controls form[data-event="join"]', { timeout: WAIT_MS });
      assert.match(await tab.page.textContent('#controls'), /rooms it declares: 'a'/);
      assert.match(await tab.page.textContent('#no-chat'), /does not answer/);
    }
    await useControl(one, 'join', '"a"');
    // The join emits nothing; the trace shows that its handler ran, and so does the diagram.
    await serve.waitFor("tab-1's join", (l) => l.kind === 'handled' && l.client === 'tab-1' && l.event === 'join' && l.action === 'socket.join(room)');
    await viewer.page.waitForFunction(
      () => [...document.querySelectorAll('svg.rt-diagram text')].some((t) => t.textContent === "emit 'join'"),
      null,
      { timeout: WAIT_MS },
    );
    // tab-1's own room message comes after its join on the same connection, and the server
    // handles one packet at a time in arrival order: once it is traced, tab-1 is in room a.
    await useControl(one, 'room message', '"a", "am I alone?"');
    const own = await serve.waitFor("tab-1's room message", (l) => l.kind === 'emit' && l.client === 'tab-1');
    assert.deepEqual(own.sent_to, [], 'socket.to(room) leaves the sender out');
    assert.deepEqual(own.why_not, { 'tab-1': 'the sender', 'tab-2': "not in room 'a'" });

    await useControl(two, 'room message', '"a", "hi room a"');
    const record = await serve.waitFor("tab-2's room message", (l) => l.kind === 'emit' && l.client === 'tab-2');
    assert.deepEqual(record.sent_to, ['tab-1'], 'only the member');
    assert.deepEqual(record.why_not, { 'tab-2': 'the sender' });
    await drawnAsTraced(viewer, record);
    await waitForMessage(one, 'room message: "hi room a"');
    assert.equal(await fence(two), 'Invalid namespace');
    assert.ok(!(await messages(two)).some((m) => m.includes('hi room a')), 'tab-2 is not in the room');
    assert.equal(await fence(one), 'Invalid namespace');
    assert.ok(!(await messages(one)).some((m) => m.includes('am I alone?')), 'the sender does not get its own');
    writeFileSync(join(artifactsDir(), 'tutor-live-serve-4.png'), await viewer.page.screenshot({ fullPage: true }));
    writeFileSync(join(artifactsDir(), 'serve-4-tab-1.png'), await one.page.screenshot());
  } finally {
    await context.close();
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

/** Joins namespace `nsp` (JSON) with `auth` (JSON) from the control strip's namespace form. */
async function joinNamespace(tab, nsp, auth) {
  const form = tab.page.locator('#controls form.namespace').first();
  await form.locator('input[name="nsp"]').fill(nsp);
  await form.locator('input[name="auth"]').fill(auth);
  await form.locator('button').click();
}

test('serve 8: a tab joins /admin with the token, another is refused, and an announcement reaches only the admin', { timeout: 60_000 }, async () => {
  const serve = await startServe(['8']);
  const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
  try {
    const one = await openTab(context, serve, 'tab-1');
    const two = await openTab(context, serve, 'tab-2');
    for (const tab of [one, two]) {
      await tab.page.waitForSelector('#controls form.namespace[data-namespace="/admin"]', { timeout: WAIT_MS });
      assert.match(await tab.page.textContent('#controls'), /its middleware: io\.of\('\/admin'\)\.use/);
    }
    await joinNamespace(one, '"/admin"', '{"token":"letmein"}');
    await waitForMessage(one, 'connected to /admin');
    await waitForMessage(one, '/admin welcome: "admin"');
    await joinNamespace(two, '"/admin"', '{}');
    await waitForMessage(two, 'connect_error on /admin: not authorized');
    await serve.waitFor("tab-2's refusal", (l) => l.kind === 'rejected' && l.client === 'tab-2' && /refused: not authorized/.test(l.reason));

    await useControl(two, 'announce', '"deploy at five"');
    const record = await serve.waitFor("tab-2's announcement", (l) => l.kind === 'emit' && l.client === 'tab-2');
    assert.deepEqual(record.sent_to, ['tab-1'], 'only the socket on /admin');
    assert.match(record.why_not['tab-2'], /no socket in '\/admin'/);
    await waitForMessage(one, '/admin announcement: "deploy at five"');
    assert.equal(await fence(two), 'Invalid namespace');
    assert.ok(!(await messages(two)).some((m) => m.includes('deploy at five')), 'tab-2 has no socket on /admin');
    writeFileSync(join(artifactsDir(), 'serve-8-tab-1.png'), await one.page.screenshot());
  } finally {
    await context.close();
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

test('serve 5: a tab asks with an acknowledgement and shows the answer; serve 3 keeps its page', { timeout: 60_000 }, async () => {
  const serve = await startServe(['5']);
  const context = await browser.newContext({ viewport: { width: 700, height: 400 } });
  try {
    const viewer = await openViewer(context, serve);
    const one = await openTab(context, serve, 'tab-1');
    const two = await openTab(context, serve, 'tab-2');
    await one.page.waitForSelector('#controls form[data-event="question"]', { timeout: WAIT_MS });
    await useControl(one, 'question', '"ready?"');
    await waitForMessage(one, `answer to 'question': {"got":"ready?"}`);
    const asked = await serve.waitFor("tab-1's question", (l) => l.kind === 'handled' && l.client === 'tab-1' && l.event === 'question');
    assert.equal(asked.answers, true);
    await viewer.page.waitForFunction(
      () => [...document.querySelectorAll('svg.rt-diagram line.rtd-reply')].length === 1,
      null,
      { timeout: WAIT_MS },
    );
    writeFileSync(join(artifactsDir(), 'tutor-live-serve-5.png'), await viewer.page.screenshot({ fullPage: true }));
    assert.equal(await fence(two), 'Invalid namespace');
    assert.deepEqual(await messages(two), [], 'the answer goes to the one who asked');
    writeFileSync(join(artifactsDir(), 'serve-5-tab-1.png'), await one.page.screenshot());
  } finally {
    await context.close();
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
  const chat = await startServe(['3']);
  try {
    const response = await fetch(chat.url);
    assert.ok(!(await response.text()).includes('controls.js'), "lesson 3's chat page is the lesson's own");
  } finally {
    await chat.stop();
  }
});

/** Where the arrows of one record start and end, as {from, to, read}, sorted by recipient. */
function arrowsFrom(viewer, record) {
  return viewer.page.$$eval(
    'svg.rt-diagram line[data-to]',
    (lines, [step, text]) =>
      lines
        .filter((l) => l.dataset.step === step && l.dataset.label === text)
        .map((l) => ({ from: Number(l.getAttribute('x1')), to: l.dataset.to, read: l.dataset.read === 'true' }))
        .sort((a, b) => a.to.localeCompare(b.to)),
    [stepOf(record), label(record.event, record.args)],
  );
}

test('serve 7 --bots 2: a lane per server, each message drawn from the server that delivered it', { timeout: 90_000 }, async () => {
  const serve = await startServe(['7', '--bots', '2']);
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  try {
    const viewer = await openViewer(context, serve);
    const across = (from, node, to) => (l) =>
      l.kind === 'emit' && l.client === from && l.node === node && (l.relayed ?? []).some((r) => r.sent_to.includes(to)) && l.read_by.includes(to);
    const fromB = await serve.waitFor("bob's message (on B) read by alice on A", across('bob', 'B', 'alice'));
    const fromA = await serve.waitFor("alice's message (on A) read by bob on B", across('alice', 'A', 'bob'));
    const xs = {};
    for (const record of [fromB, fromA]) {
      await viewer.page.waitForFunction(
        ([step, text]) =>
          [...document.querySelectorAll('svg.rt-diagram line[data-to]')].filter((l) => l.dataset.step === step && l.dataset.label === text).length >= 2,
        [stepOf(record), label(record.event, record.args)],
        { timeout: WAIT_MS, polling: 'raf' },
      );
      const arrows = await arrowsFrom(viewer, record);
      assert.deepEqual(
        arrows.map((a) => ({ to: a.to, read: a.read })),
        [
          { to: 'alice', read: true },
          { to: 'bob', read: true },
        ],
        `arrows of ${JSON.stringify(record)}`,
      );
      // Each arrow leaves the lane of the server that delivered it: the sender's server for its
      // own sockets, the other server (in a step of its own) for what Redis carried there.
      for (const a of arrows) {
        xs[a.to] ??= a.from;
        assert.equal(a.from, xs[a.to], `${a.to}'s arrows of ${JSON.stringify(record)} leave its server's lane`);
      }
    }
    assert.notEqual(xs.alice, xs.bob, 'alice (on A) and bob (on B) are served from different lanes');
    const names = await viewer.page.$$eval('svg.rt-diagram text.rtd-name', (texts) => texts.map((t) => t.textContent));
    assert.deepEqual(names.slice(0, 2), ['server A', 'server B'], `lanes: ${names}`);
    assert.ok(!names.includes('HTTP client'), `no lane for a client that is not there: ${names}`);
    assert.deepEqual(viewer.errors, [], 'no errors on the page');
    writeFileSync(join(artifactsDir(), 'tutor-live-serve-7.png'), await viewer.page.screenshot({ fullPage: true }));
  } finally {
    await context.close();
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});
