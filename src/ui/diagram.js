// The sequence diagram of a trace, drawn in the browser from the JSON Lines step records as they
// arrive: the same picture `src/ui/diagram.rs` writes as an SVG file (the browser test compares
// the two element by element), for a live page that adds one record at a time.
//
// Every string from a record (client names, event names, arguments, reasons) reaches the page
// through `textContent` on elements made with `createElementNS`: never as markup, so a chat
// message that reads `<script>` is shown as those characters.
//
// Records are StepRecords as `--format json` prints them. One kind the Rust trace does not have
// yet is understood too: `{"kind": "disconnect", "sender": NAME, ...}` ends that client's lane,
// for a live page that sees a browser tab close.
//
// Usage:
//   import { SequenceDiagram } from './diagram.js';
//   const diagram = new SequenceDiagram(document, { title: (lesson, stage) => 'io.emit…' });
//   container.append(diagram.svg);
//   diagram.addLine(jsonLine); // or diagram.add(record); redraws the picture

import { Scene, SVG_NS, chars, count, styleSheet, textWidth, visible } from './svg.js';

// The layout, in pixels: the same numbers as diagram.rs.
const MARGIN = 16;
const HEAD_H = 24;
const ROW = 24;
const MIN_GAP = 128;
const MAX_LABEL = 60;
const NOTE_WIDTH = 64;

/** `'hi'` or `'chat message' "hello"`, as JavaScript shows an emit's arguments. */
export function describe(event, args) {
  return args.length === 0 ? `'${event}'` : `'${event}' ${args.map((a) => JSON.stringify(a)).join(', ')}`;
}

function shorten(text) {
  if (count(text) <= MAX_LABEL) return [text, null];
  return [chars(text).slice(0, MAX_LABEL - 1).join('') + '…', text];
}

/** First-fit wrapping at spaces, long words broken: what textwrap does for the Rust side. */
function wrap(text, width) {
  const words = [];
  for (const [, word, space] of text.matchAll(/([^ ]*)( *)/g)) {
    if (word === '' && space === '') continue;
    const cs = chars(word);
    let i = 0;
    for (; cs.length - i > width; i += width) words.push([cs.slice(i, i + width).join(''), '']);
    words.push([cs.slice(i).join(''), space]);
  }
  const lines = [];
  let line = '';
  let used = 0;
  let pending = '';
  for (const [word, space] of words) {
    if (line !== '' && used + count(pending) + count(word) > width) {
      lines.push(line);
      line = '';
      used = 0;
      pending = '';
    }
    line += pending + word;
    used += count(pending) + count(word);
    pending = space;
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

const headWidth = (name) => textWidth(name) + 20;

function caller(step) {
  if (step.sender != null) return step.sender;
  return step.probe?.method === 'in-process' ? 'the program' : 'HTTP client';
}

/** The name on a server's lane: `server`, or `server A` on a stage with several. */
function serverLane(node) {
  return node == null ? 'server' : `server ${node}`;
}

/**
 * Servers first (one lane per server the records name, in the order of their names, whichever
 * handled a step first, or the one `server`), then clients in the order they first appear.
 */
function lanesOf(steps) {
  const names = [];
  for (const step of steps) {
    if (step.node != null && !names.includes(serverLane(step.node))) names.push(serverLane(step.node));
  }
  names.sort();
  if (names.length === 0) names.push(serverLane(null));
  const servers = names.length;
  const add = (name) => names.includes(name) || names.push(name);
  for (const step of steps) {
    if (step.kind !== 'note') add(caller(step));
    const live = [...Object.keys(step.sent ?? {})];
    for (const name of [...Object.keys(step.received ?? {}), ...live, ...(step.not_received_by ?? [])]) add(name);
  }
  const widths = names.map(headWidth);
  const gap = Math.max(MIN_GAP, ...widths.map((w) => w + 24));
  const first = MARGIN + Math.trunc(widths[0] / 2);
  const x = names.map((_, i) => first + i * gap);
  const serverOf = (step) => x[Math.max(0, names.slice(0, servers).indexOf(serverLane(step.node)))];
  return { names, servers, x, at: (name) => x[Math.max(0, names.indexOf(name))], serverOf };
}

function caption(scene, text, y) {
  const [shown, full] = shorten(text);
  scene.text([MARGIN, y + 16], false, 'rtd-caption rtd-label', [[null, shown]], full);
  return y + 16 + ROW;
}

function arrow(scene, from, to, y, kind, beside, label) {
  const line = scene.line([from, y], [to, y], `rtd-${kind}`);
  const dir = to > from ? -1 : 1;
  scene.polygon([[to, y], [to + dir * 8, y - 4], [to + dir * 8, y + 4]], `rtd-${kind}-head`);
  const whole = label.map(([, t]) => t).join('');
  const cut = count(whole) > MAX_LABEL;
  let budget = cut ? MAX_LABEL - 1 : Infinity;
  const shown = label.map(([cls, t]) => {
    const piece = chars(t).slice(0, budget).join('');
    budget -= count(piece);
    return [cls, piece];
  });
  if (cut && shown.length > 0) shown[shown.length - 1][1] += '…';
  scene.text([beside + 10, y - 5], false, 'rtd-label', shown, cut ? whole : null);
  return line;
}

// A live page's deliveries (`step.sent`, from `serve`'s records): what the server queued for a
// socket is not what a client read. A solid arrow is a delivery a bot reported reading; a dashed
// one (`rtd-queued`) is a packet the server queued for a socket that does not report reading
// (a browser tab), or a bot that did not report it; the reason follows.
function liveDeliveries(scene, lanes, server, name, step, y) {
  const x = lanes.at(name);
  for (const d of step.sent?.[name] ?? []) {
    const label = describe(d.event, d.args);
    const read = d.read === true;
    // The mark goes first, so that a long message is cut at its end, never the mark.
    const mark = read ? ['rtd-ok', '✓ read  '] : ['rtd-dim', 'sent  '];
    const line = arrow(scene, server, x, y, read ? 'deliver' : 'queued', x, [mark, [null, label]]);
    line.setAttribute('data-to', name);
    line.setAttribute('data-step', step.step);
    line.setAttribute('data-label', label);
    line.setAttribute('data-read', String(read));
    y += ROW;
    if (d.unread != null) y = note(scene, x, y - 8, `not reported read: ${d.unread}`, 'rtd-dim') + 8;
  }
  return y;
}

function xMark(scene, x, y) {
  scene.line([x - 5, y - 5], [x + 5, y + 5], 'rtd-cross');
  scene.line([x - 5, y + 5], [x + 5, y - 5], 'rtd-cross');
}

function cross(scene, x, y, what, why) {
  xMark(scene, x, y - 5);
  const text = why != null ? `not delivered: ${what} (${why})` : `not delivered: ${what}`;
  const [shown, full] = shorten(text);
  scene.text([x + 10, y - 1], false, 'rtd-no rtd-label', [[null, shown]], full);
}

function actionBox(scene, server, y, action, suffix) {
  const code = action + suffix;
  const w = textWidth('runs ') + textWidth(code) + 16;
  scene.rect([server - 6, y - 4], [w, 22], 'rtd-code-box');
  scene.text([server + 2, y + 11], false, 'rtd-label', [['rtd-dim', 'runs '], ['rtd-code', code]], null);
  return y + 22 + ROW;
}

function deliveries(scene, lanes, server, name, inbox, y) {
  const x = lanes.at(name);
  for (const [number, d] of inbox) {
    const label = describe(d.event, d.args);
    arrow(scene, server, x, y, 'deliver', x, [['rtd-dim', number == null ? '' : `#${number} `], [null, label]]);
    y += ROW;
  }
  return y;
}

function drawStep(scene, lanes, step, y, joined, left) {
  const server = lanes.serverOf(step);
  if (step.sender != null) {
    const x = lanes.at(step.sender);
    if (step.kind === 'connect') {
      if (!joined.has(step.sender)) joined.set(step.sender, y);
      left.delete(step.sender);
      arrow(scene, x, server, y, 'send', x, [[null, 'connect']]);
    } else if (step.kind === 'disconnect') {
      // Not a kind the Rust trace has yet: a live page that sees a client leave (a tab closed)
      // records it so, and the client's lane ends here.
      left.set(step.sender, y);
      arrow(scene, x, server, y, 'send', x, [[null, 'disconnect']]);
    } else {
      // What the client sent: the server's event unless the record keeps the client's own apart.
      const own = step.client_emit;
      const sent = own != null ? describe(own.event, own.args) : describe(step.event ?? '?', step.args);
      arrow(scene, x, server, y, 'send', x, [[null, 'emit '], [null, sent]]);
    }
    y += ROW;
  }
  // A live record's `refused` is why the server ignored a message (a string); a lesson record's
  // is a CONNECT the server refused (an object), drawn after the action as the Rust renderer does.
  if (typeof step.refused === 'string') y = note(scene, server, y, `the server ignored it: ${step.refused}`, 'rtd-no');
  if (step.action != null) y = actionBox(scene, server, y, step.action, '');
  if (step.refused != null && typeof step.refused === 'object') {
    y = note(scene, server, y, `connect_error on ${step.refused.nsp}: '${step.refused.message}'`, 'rtd-no');
  }
  if (step.answered === true && step.sender != null) {
    // An acknowledgement: an answer on the sender's own connection, not an emit.
    const x = lanes.at(step.sender);
    arrow(scene, server, x, y, 'reply', x, [[null, 'ack: the callback is answered'], ['rtd-dim', ' (to the sender only)']]);
    y += ROW;
  }
  for (const text of step.notes ?? []) y = note(scene, server, y, text, 'rtd-dim');
  for (const name of lanes.names.slice(lanes.servers)) {
    y = deliveries(scene, lanes, server, name, (step.received?.[name] ?? []).map((d) => [null, d]), y);
    y = liveDeliveries(scene, lanes, server, name, step, y);
    for (const d of step.ignored?.[name] ?? []) {
      const x = lanes.at(name);
      arrow(scene, server, x, y, 'ignored', x, [[null, describe(d.event, d.args)], ['rtd-dim', '  (not judged by this lesson)']]);
      y += ROW;
    }
    if ((step.not_received_by ?? []).includes(name)) {
      cross(scene, lanes.at(name), y, `'${step.event ?? ''}'`, step.why_not?.[name]);
      y += ROW;
    }
    y = acks(scene, lanes.at(name), server, step, name, y);
  }
  return y;
}

// The acknowledgements of client `name` as return arrows: the server's answer to its callback
// (server → client), its answer to the server's emitWithAck (client → server), or a ✗ where the
// asker's timer ran out instead.
function acks(scene, x, server, step, name, y) {
  const ways = [
    [step.acks?.[name], server, x, 'its callback got no answer'],
    [step.server_acks?.[name], x, server, "no answer: the server's timer ran out"],
  ];
  for (const [ack, from, to, silent] of ways) {
    if (ack == null) continue;
    if (ack.answered !== undefined) {
      const answer = ack.answered.map((a) => JSON.stringify(a)).join(', ');
      arrow(scene, from, to, y, 'reply', x, [['rtd-dim', '↩ ack '], [null, answer]]);
    } else {
      xMark(scene, x, y - 5);
      const [shown, full] = shorten(`${silent} (${ack['timed-out'].after_ms} ms)`);
      scene.text([x + 10, y - 1], false, 'rtd-no rtd-label', [[null, shown]], full);
    }
    y += ROW;
  }
  return y;
}

function drawBurst(scene, lanes, steps, y) {
  y = caption(scene, `${steps[0].step} · ${steps.length} messages, one after another`, y);
  const server = lanes.serverOf(steps[0]);
  steps.forEach((step, i) => {
    if (step.sender == null) return;
    const x = lanes.at(step.sender);
    const sent = describe(step.event ?? '?', step.args);
    arrow(scene, x, server, y, 'send', x, [['rtd-dim', `#${i + 1} `], [null, 'emit '], [null, sent]]);
    y += ROW;
  });
  if (steps[0].action != null) y = actionBox(scene, server, y, steps[0].action, ' for each');
  for (const name of lanes.names.slice(lanes.servers)) {
    const seen = [];
    steps.forEach((step, i) => {
      const position = step.arrival?.[name];
      if (position == null) return;
      const d = (step.received?.[name] ?? []).find((d) => d.event === (step.event ?? ''));
      if (d) seen.push([position, i + 1, d]);
    });
    seen.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    y = deliveries(scene, lanes, server, name, seen.map(([, n, d]) => [n, d]), y);
    steps.forEach((step, i) => {
      if ((step.not_received_by ?? []).includes(name)) {
        cross(scene, lanes.at(name), y, `#${i + 1}`, step.why_not?.[name]);
        y += ROW;
      }
    });
  }
  return y;
}

function succeeded(probe) {
  if (probe.outcome === 'socket.io') return true;
  return probe.outcome === 'http' && probe.status != null && probe.status < 400;
}

function note(scene, x, y, text, cls) {
  // The lines after the first are indented by position, which every renderer agrees on.
  wrap(text, NOTE_WIDTH).forEach((line, i) => {
    const [at, shown] = i === 0 ? [x + 10, '· ' + line] : [x + 10 + textWidth('· '), line];
    scene.text([at, y + 4], false, `${cls} rtd-label`, [[null, shown]], null);
    y += 16;
  });
  return y + 4;
}

function drawProbe(scene, lanes, step, y, joined) {
  const probe = step.probe;
  if (!probe) return y;
  const who = caller(step);
  const x = lanes.at(who);
  const server = lanes.serverOf(step);
  const request =
    probe.method === 'in-process'
      ? `${probe.url} (in-process)`
      : probe.method === 'http-get'
        ? `GET ${probe.url}`
        : probe.method === 'polling'
          ? `long-polling ${probe.url}`
          : probe.method === 'cross-poll'
            ? `polling GET ${probe.url}`
            : `WebSocket ${probe.url}`;
  arrow(scene, x, server, y, 'send', x, [[null, request]]);
  const [first = '', ...rest] = probe.observed;
  if (probe.status != null) {
    y += ROW;
    const ok = succeeded(probe);
    arrow(scene, server, x, y, 'reply', x, [[ok ? 'rtd-ok' : 'rtd-no', ok ? '✓ ' : '✗ '], [null, first]]);
  } else {
    y += ROW;
    xMark(scene, server, y);
    y = note(scene, server, y, first, 'rtd-no') - ROW;
  }
  if (probe.outcome === 'socket.io' && !joined.has(who)) joined.set(who, y);
  y += ROW;
  for (const line of rest) y = note(scene, x, y, line, 'rtd-dim');
  return y;
}

function drawStage(doc, scene, stage, top) {
  const lanes = lanesOf(stage.steps);
  const heading = `Lesson ${stage.lesson} · stage ${stage.stage}` + (stage.title ? ` · ${stage.title}` : '');
  scene.text([MARGIN, top + 12], false, 'rtd-title', [[null, heading]], null);
  const headTop = top + 24;
  lanes.names.forEach((name, i) => {
    const w = headWidth(name);
    scene.rect([lanes.x[i] - Math.trunc(w / 2), headTop], [w, HEAD_H], 'rtd-head');
    scene.text([lanes.x[i], headTop + 16], true, 'rtd-name', [[null, name]], null);
  });
  const rows = new Scene(doc);
  const joined = new Map();
  const left = new Map();
  const rules = [];
  let y = headTop + HEAD_H + 8;
  const steps = stage.steps;
  for (let i = 0; i < steps.length; ) {
    const step = steps[i];
    if (step.burst != null) {
      let len = 0;
      while (i + len < steps.length && steps[i + len].burst === step.burst) len++;
      rules.push(y);
      y = drawBurst(rows, lanes, steps.slice(i, i + len), y);
      i += len;
      continue;
    }
    rules.push(y);
    y = caption(rows, `${step.step} · ${step.trigger}`, y);
    y = step.kind === 'probe' ? drawProbe(rows, lanes, step, y, joined) : drawStep(rows, lanes, step, y, joined, left);
    i += 1;
  }
  const bottom = y;
  const right = Math.max(rows.right, lanes.x[lanes.x.length - 1] ?? 0);
  for (const ry of rules) scene.line([MARGIN, ry + 2], [right, ry + 2], 'rtd-rule');
  const start = headTop + HEAD_H;
  lanes.names.forEach((name, i) => {
    const x = lanes.x[i];
    const from = i < lanes.servers ? start : joined.get(name);
    if (from == null) {
      scene.line([x, start], [x, bottom], 'rtd-absent');
      return;
    }
    if (from > start) {
      scene.line([x, start], [x, from], 'rtd-absent');
      scene.dot([x, from], 4, 'rtd-joined');
    }
    const to = left.get(name) ?? bottom;
    scene.line([x, from], [x, to], 'rtd-life');
    if (to < bottom) {
      // Gone: a bar where the client left, dotted below.
      scene.line([x - 6, to], [x + 6, to], 'rtd-life');
      scene.line([x, to], [x, bottom], 'rtd-absent');
    }
  });
  scene.append(rows);
  return bottom;
}

/** A diagram that grows as step records arrive. */
export class SequenceDiagram {
  /**
   * @param {Document} doc the page's document
   * @param {{title?: (lesson: number, stage: number) => string | null | undefined, maxSteps?: number}} options
   *   `title` names a stage; `maxSteps` bounds what is kept (the oldest records are dropped).
   */
  constructor(doc, { title = () => null, maxSteps = 1000 } = {}) {
    this.doc = doc;
    this.title = title;
    this.maxSteps = maxSteps;
    this.records = [];
    this.svg = doc.createElementNS(SVG_NS, 'svg');
    this.render();
  }

  /** Adds one JSON Lines record (text) and redraws. */
  addLine(line) {
    this.add(JSON.parse(line));
  }

  /** Adds one step record (an object) and redraws. */
  add(record) {
    this.records.push(record);
    if (this.records.length > this.maxSteps) this.records.splice(0, this.records.length - this.maxSteps);
    this.render();
  }

  /** The records grouped into stages: a new stage wherever lesson or stage changes. */
  stages() {
    const stages = [];
    for (const r of this.records) {
      const last = stages[stages.length - 1];
      if (last && last.lesson === r.lesson && last.stage === r.stage) last.steps.push(r);
      else stages.push({ lesson: r.lesson, stage: r.stage, title: this.title(r.lesson, r.stage) ?? '', steps: [r] });
    }
    return stages;
  }

  /** Draws everything again into the same <svg> element. */
  render() {
    const doc = this.doc;
    const scene = new Scene(doc);
    const stages = this.stages();
    let y = MARGIN;
    for (const stage of stages) y = drawStage(doc, scene, stage, y) + ROW;
    const w = scene.right + MARGIN;
    const h = scene.bottom + MARGIN;
    const svg = this.svg;
    svg.replaceChildren();
    for (const [k, v] of [['class', 'rt-diagram'], ['width', w], ['height', h], ['viewBox', `0 0 ${w} ${h}`], ['role', 'img'], ['style', 'max-width:100%;height:auto']]) {
      svg.setAttribute(k, String(v));
    }
    svg.setAttributeNS('http://www.w3.org/XML/1998/namespace', 'xml:space', 'preserve'); // see svg.rs
    const title = doc.createElementNS(SVG_NS, 'title');
    const one = stages.length === 1 ? stages[0] : null;
    title.textContent = visible(
      one ? `Lesson ${one.lesson} stage ${one.stage}: ${one.title}` : stages.length > 0 ? `Lesson ${stages[0].lesson}: who received what` : 'No stage ran',
    );
    const style = doc.createElementNS(SVG_NS, 'style');
    style.textContent = styleSheet();
    const bg = doc.createElementNS(SVG_NS, 'rect');
    for (const [k, v] of [['class', 'rtd-bg'], ['x', 0], ['y', 0], ['width', w], ['height', h], ['rx', 6]]) bg.setAttribute(k, String(v));
    svg.append(title, style, bg, ...scene.nodes);
  }
}
