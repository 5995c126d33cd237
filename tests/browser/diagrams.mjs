// The sequence diagrams in a real browser (Debian's headless chromium, driven by playwright-core):
// - every committed diagram (book/src/diagrams/, written by the Rust suite from the traces the
//   snapshots check) opens as a standalone SVG without a parse error, follows the colour scheme,
//   and is kept as a screenshot on a light and a dark page under test-artifacts/diagrams/;
// - the browser-side renderer (src/ui/diagram.js, svg.js, follow.js), fed the lessons' JSON Lines one record at a
//   time, draws the same elements, attributes and text as the Rust renderer did;
// - in the live renderer, a chat message made of markup stays text, a reason is drawn only when
//   the record holds one, and a client that disconnects has its lane end there.
//
// Run by tests/suite/diagrams.rs (`node --test diagrams.mjs`); not named *.test.mjs, so serve's
// own `node --test` run does not pick it up a second time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { launchChromium } from './helpers.mjs';
import { BIN, WAIT_MS, artifactsDir } from './serve.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIAGRAMS = join(ROOT, 'book/src/diagrams');
const UI = join(ROOT, 'src/ui');
const ORIGIN = 'http://tutor.test';

const SCHEMES = {
  light: { page: '#ffffff', background: 'rgb(255, 255, 255)' },
  dark: { page: '#0b0d10', background: 'rgb(30, 34, 39)' },
};

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** `lesson-L-stage-S.svg` files, in lesson and stage order. */
function committed() {
  const found = readdirSync(DIAGRAMS)
    .map((name) => name.match(/^lesson-(\d+)-stage-(\d+)\.svg$/))
    .filter(Boolean)
    .map((m) => ({ file: join(DIAGRAMS, m[0]), name: m[0].replace(/\.svg$/, ''), lesson: +m[1], stage: +m[2] }));
  return found.sort((a, b) => a.lesson - b.lesson || a.stage - b.stage);
}

/** Every stage's title, from the tutor itself (`list --format json`). */
function titles() {
  const out = execFileSync(BIN, ['list', '--format', 'json'], {
    encoding: 'utf8',
    timeout: WAIT_MS,
    env: { ...process.env, REALTIME_TUTOR_HOME: join(artifactsDir(), 'home') },
  });
  const map = new Map();
  for (const line of out.trim().split('\n')) {
    const lesson = JSON.parse(line);
    for (const s of lesson.stages) map.set(`${lesson.lesson}.${s.stage}`, s.title);
  }
  return map;
}

/** The step records of a lesson, from its JSON snapshot (the header is three lines). */
function records(lesson) {
  const text = readFileSync(join(ROOT, `snapshots/lesson-${lesson}-json.snap`), 'utf8');
  return text.split('\n').slice(3).filter((l) => l.trim() !== '');
}

/**
 * A page with the browser-side renderer loaded as the live page will load it: ES modules from
 * src/ui/ (served here by the test itself at a made-up origin), with `window.SequenceDiagram` and
 * `window.followLines` set.
 */
async function rendererPage(context) {
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await page.route(`${ORIGIN}/**`, (route) => {
    const name = new URL(route.request().url()).pathname.slice(1);
    if (name === '') {
      return route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><html><body><script type="module">
import { SequenceDiagram } from './diagram.js';
import { followLines } from './follow.js';
window.SequenceDiagram = SequenceDiagram;
window.followLines = followLines;
</script></body></html>`,
      });
    }
    if (/^[a-z]+\.js$/.test(name) && existsSync(join(UI, name))) {
      return route.fulfill({ contentType: 'text/javascript', body: readFileSync(join(UI, name), 'utf8') });
    }
    return route.fulfill({ status: 404, body: 'not here' });
  });
  await page.goto(`${ORIGIN}/`, { timeout: WAIT_MS });
  await page.waitForFunction(() => typeof window.SequenceDiagram === 'function' && typeof window.followLines === 'function', null, {
    timeout: WAIT_MS,
  });
  return { page, dialogs };
}

test('every committed diagram is a valid SVG that follows the colour scheme; screenshots kept', async () => {
  const all = committed();
  assert.ok(all.some((d) => d.lesson === 2) && all.some((d) => d.lesson === 3), `diagrams of lessons 2 and 3: ${all.map((d) => d.name)}`);
  const out = join(artifactsDir(), 'diagrams');
  mkdirSync(out, { recursive: true });
  for (const [scheme, colours] of Object.entries(SCHEMES)) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 900, height: 600 } });
    const page = await context.newPage();
    for (const d of all) {
      // On its own, as a file: the XML parser of the browser must accept it.
      await page.goto(pathToFileURL(d.file).href, { timeout: WAIT_MS });
      const root = await page.evaluate(() => ({
        name: document.documentElement.localName,
        ns: document.documentElement.namespaceURI,
        errors: document.getElementsByTagName('parsererror').length,
        background: getComputedStyle(document.querySelector('.rtd-bg')).fill,
      }));
      assert.deepEqual(
        root,
        { name: 'svg', ns: 'http://www.w3.org/2000/svg', errors: 0, background: colours.background },
        `${d.name} (${scheme})`,
      );
      // Inline in a page of that scheme's background, as the book shows it.
      const svg = readFileSync(d.file, 'utf8');
      await page.goto('about:blank');
      await page.setContent(`<!doctype html><html><body style="margin:16px;background:${colours.page}">${svg}</body></html>`);
      const element = await page.$('svg');
      await element.screenshot({ path: join(out, `${d.name}-${scheme}.png`), timeout: WAIT_MS });
    }
    await context.close();
  }
});

test('the browser renderer draws what the Rust renderer drew, record by record', async () => {
  const names = titles();
  const context = await browser.newContext();
  const { page, dialogs } = await rendererPage(context);
  let compared = 0;
  for (const d of committed()) {
    const lines = records(d.lesson).filter((l) => JSON.parse(l).stage === d.stage);
    assert.ok(lines.length > 0, `${d.name} has records in snapshots/lesson-${d.lesson}-json.snap`);
    const result = await page.evaluate(
      ({ lines, rust, title }) => {
        // Every element in document order: its name, its attributes (sorted), and its own text
        // (whitespace between elements ignored).
        const shape = (root) =>
          [root, ...root.querySelectorAll('*')].map((el) => {
            const attrs = [...el.attributes]
              .filter((a) => a.name !== 'xmlns')
              .map((a) => `${a.name}=${a.value}`)
              .sort();
            const own = [...el.childNodes]
              .filter((n) => n.nodeType === Node.TEXT_NODE)
              .map((n) => n.data)
              .join('');
            return `<${el.localName} ${attrs.join(' ')}>${own.trim() === '' ? '' : own}`;
          });
        const diagram = new window.SequenceDiagram(document, { title: () => title });
        document.body.replaceChildren(diagram.svg);
        for (const line of lines) diagram.addLine(line);
        const parsed = new DOMParser().parseFromString(rust, 'image/svg+xml').documentElement;
        return { js: shape(diagram.svg), rust: shape(parsed) };
      },
      { lines, rust: readFileSync(d.file, 'utf8'), title: names.get(`${d.lesson}.${d.stage}`) },
    );
    assert.ok(result.rust.length > 20, `${d.name} has elements`);
    assert.deepEqual(result.js, result.rust, `${d.name}: the browser renderer differs from the committed SVG`);
    compared += 1;
  }
  assert.ok(compared >= 4, `compared ${compared} stages`);
  assert.deepEqual(dialogs, []);
  await context.close();
});

test('live records: markup stays text, a reason only when held, the picture grows, a lane ends at a disconnect', async () => {
  const XSS = ['<img src=x onerror=alert(1)>', '<script>alert(2)</script>', ']]> & "quotes" \'single\''];
  const context = await browser.newContext({ colorScheme: 'dark' });
  const { page, dialogs } = await rendererPage(context);
  const base = { lesson: 3, stage: 2, audience: 'everyone-but-sender', action: "socket.broadcast.emit('chat message', msg)" };
  const lines = [
    { ...base, step: 1, kind: 'connect', action: null, trigger: 'alice connects', sender: 'alice', event: null, args: [], received_by: [], not_received_by: [], received: { alice: [] } },
    { ...base, step: 2, kind: 'connect', action: null, trigger: '<b>eve</b> connects', sender: '<b>eve</b>', event: null, args: [], received_by: [], not_received_by: [], received: { '<b>eve</b>': [], alice: [] } },
    ...XSS.map((text, i) => ({
      ...base,
      step: 3 + i,
      kind: 'emit',
      trigger: "alice emits 'chat message'",
      sender: 'alice',
      event: 'chat message',
      args: [text],
      received_by: ['<b>eve</b>'],
      not_received_by: ['alice'],
      ...(i === 0 ? { why_not: { alice: 'the sender <i>' } } : {}),
      received: { '<b>eve</b>': [{ event: 'chat message', args: [text] }], alice: [] },
    })),
  ].map((r) => JSON.stringify(r));
  const seen = await page.evaluate((lines) => {
    const diagram = new window.SequenceDiagram(document, { title: () => 'chat <u>' });
    document.body.style.background = '#0b0d10';
    document.body.replaceChildren(diagram.svg);
    for (const line of lines) diagram.addLine(line);
    return {
      markup: document.querySelectorAll('body img, body script, body b, body i, body u').length,
      text: diagram.svg.textContent,
      crosses: [...diagram.svg.querySelectorAll('text.rtd-no')].map((t) => t.textContent),
    };
  }, lines);
  assert.equal(seen.markup, 0, 'no element was made from a message');
  for (const text of XSS) assert.ok(seen.text.includes(JSON.stringify(text)), `${text} is shown as text`);
  assert.ok(seen.text.includes('<b>eve</b>'), 'a client name is shown as text');
  assert.deepEqual(seen.crosses, [
    "not delivered: 'chat message' (the sender <i>)",
    "not delivered: 'chat message'",
    "not delivered: 'chat message'",
  ]);
  await page.locator('svg').screenshot({ path: join(artifactsDir(), 'diagrams', 'live-renderer-xss-dark.png'), timeout: WAIT_MS });
  // A client that leaves: its lane ends with a bar at the disconnect and is dotted below it.
  const lanes = await page.evaluate((lines) => {
    const diagram = new window.SequenceDiagram(document, { title: () => 'leaving' });
    document.body.replaceChildren(diagram.svg);
    const heights = [];
    for (const line of lines) {
      diagram.addLine(line);
      heights.push(+diagram.svg.getAttribute('height'));
    }
    const eve = +[...diagram.svg.querySelectorAll('text.rtd-name')].find((t) => t.textContent === '<b>eve</b>').getAttribute('x');
    const at = (cls) => [...diagram.svg.querySelectorAll(`line.${cls}`)].filter((l) => +l.getAttribute('x1') === eve && +l.getAttribute('x2') === eve).length;
    const bars = [...diagram.svg.querySelectorAll('line.rtd-life')].filter((l) => +l.getAttribute('x1') === eve - 6 && +l.getAttribute('x2') === eve + 6);
    return { heights, solid: at('rtd-life'), dotted: at('rtd-absent'), bars: bars.length };
  }, [...lines.slice(0, 3), JSON.stringify({ ...base, step: 4, kind: 'disconnect', action: null, trigger: '<b>eve</b> disconnects', sender: '<b>eve</b>', event: null, args: [], received_by: [], not_received_by: [], received: { alice: [] } })]);
  assert.ok(lanes.heights.every((h, i) => i === 0 || h > lanes.heights[i - 1]), `the picture grows with each record: ${lanes.heights}`);
  assert.deepEqual({ solid: lanes.solid, dotted: lanes.dotted, bars: lanes.bars }, { solid: 1, dotted: 2, bars: 1 });
  assert.deepEqual(dialogs, [], 'no script ran');
  await context.close();
});

test('followLines draws records from a stream cut at any point, and bounds a line', async () => {
  const context = await browser.newContext();
  const { page } = await rendererPage(context);
  // The lesson's records, and one more whose message is not ASCII, so that 7-byte chunks cut
  // lines mid-record and characters mid-byte-sequence.
  const extra = { ...JSON.parse(records(3).at(-1)), args: ['héllo ✓ wörld'] };
  const text = [...records(3), JSON.stringify(extra)].join('\n') + '\n';
  const result = await page.evaluate(async (text) => {
    // Streamed in chunks of 7 bytes, then the same lines drawn in one go.
    const chunks = (text, size) =>
      new ReadableStream({
        start(c) {
          const bytes = new TextEncoder().encode(text);
          for (let i = 0; i < bytes.length; i += size) c.enqueue(bytes.slice(i, i + size));
          c.close();
        },
      });
    const streamed = new window.SequenceDiagram(document, { title: () => 'x' });
    const drawn = await window.followLines(streamed, chunks(text, 7));
    const whole = new window.SequenceDiagram(document, { title: () => 'x' });
    for (const line of text.trim().split('\n')) whole.addLine(line);
    let bounded = null;
    try {
      await window.followLines(new window.SequenceDiagram(document), chunks('{"a":"' + 'x'.repeat(5000), 100), { maxLine: 1000 });
    } catch (e) {
      bounded = e.message;
    }
    let notJson = null;
    try {
      await window.followLines(new window.SequenceDiagram(document), chunks('<script>\n', 3));
    } catch (e) {
      notJson = e.message;
    }
    const same = streamed.svg.outerHTML === whole.svg.outerHTML && streamed.svg.textContent.includes('héllo ✓ wörld');
    return { drawn, same, bounded, notJson };
  }, text);
  assert.equal(result.drawn, records(3).length + 1);
  assert.ok(result.same, 'the streamed picture equals the one drawn in one go');
  assert.equal(result.bounded, 'record 1 is longer than 1000 characters');
  assert.match(result.notJson, /^record 1 is not JSON/);
  await context.close();
});
