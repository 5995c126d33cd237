// The live page `/tutor/` of `realtime-tutor serve`: reads the server's live records from
// `/tutor/events` (JSON Lines, the records `serve --format json` prints) and draws them as the
// sequence diagram, as they happen.
//
// serve's records have their own shape (connect / emit / disconnect, with `sent_to` and
// `read_by`); `toStep` turns each into the step record the diagram draws. It keeps apart what the
// server did from what a client reported: a socket the server queued the packet for is "sent"
// (a dashed arrow), and only a bot that reported reading it off its socket is "read" (a solid
// one). Browser tabs never report reading, so their arrows stay "sent": the server cannot know
// more, and the page does not pretend to.
//
// With several servers (`serve 7`), a record names the server it happened on (`node`), which
// picks the server's lane; an emit's `relayed` parts (what another server delivers of the
// broadcast, through Redis) become steps of their own on that server's lane.
//
// Every string from a record reaches the page through textContent (see diagram.js): a chat
// message that reads `<script>` stays those characters.

import { SequenceDiagram } from './diagram.js';
import { followLines } from './follow.js';

// `1 record`, `2 records`: a count with its noun, singular or plural.
const count = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** How many steps the page keeps drawn; older ones are dropped (and counted). */
export const KEEP = 300;

const seconds = (ms) => `${(ms / 1000).toFixed(3)} s`;

/** The deliveries of one emit, by recipient: sent to (`to`, by default the record's own),
 * read or not, and why not. */
function deliveries(rec, step, to = rec.sent_to ?? []) {
  const sent = {};
  const unread = new Map((rec.unread ?? []).map((u) => [u.client, u.why]));
  for (const name of to) {
    const d = { event: rec.event, args: rec.args ?? [], read: (rec.read_by ?? []).includes(name) };
    if (unread.has(name)) d.unread = unread.get(name);
    sent[name] = [d];
  }
  step.sent = sent;
  const why = { ...(rec.why_not ?? {}) };
  const missed = [...(rec.not_sent_to ?? [])];
  for (const name of rec.dropped ?? []) {
    missed.push(name);
    why[name] = 'its outgoing buffer was full, so the server dropped the packet';
  }
  step.not_received_by = missed;
  step.why_not = why;
  step.action = rec.action;
  const notes = [];
  if ((rec.unsure ?? []).length > 0) notes.push(`maybe ${rec.unsure.join(', ')}: joined or left while the server was sending`);
  if (rec.error != null) notes.push(`error: ${rec.error}`);
  step.notes = notes;
}

/**
 * The diagram's step record for one of serve's live records, or null for records that are not
 * drawn (`about` names the stage: `{lesson, stage}`).
 */
export function toStep(rec, about) {
  const base = { lesson: about.lesson, stage: about.stage, step: seconds(rec.t_ms ?? 0) };
  if (rec.node != null) base.node = rec.node;
  switch (rec.kind) {
    case 'connect': {
      const step = { ...base, kind: 'connect', sender: rec.client, trigger: "io.on('connection')" };
      if (rec.action != null) {
        step.event = rec.event;
        deliveries(rec, step);
        step.notes = [...(step.notes ?? [])];
      }
      if (rec.already_left) step.notes = [...(step.notes ?? []), `${rec.client} was gone again at once`];
      return step;
    }
    case 'emit': {
      // The incoming arrow names the event the client sent; the record holds what the server
      // emitted in answer (the outgoing arrows), not the client's own arguments.
      const step = { ...base, kind: 'emit', sender: rec.client, trigger: `socket.on('${rec.trigger ?? rec.event}')`, args: [] };
      deliveries(rec, step);
      step.event = rec.trigger ?? rec.event;
      return step;
    }
    case 'handled':
      // A handler that emits nothing (socket.join, an ack's callback): the server reported
      // that it ran. An answered callback goes back to the sender alone.
      return {
        ...base,
        kind: 'emit',
        sender: rec.client,
        trigger: `socket.on('${rec.event}')`,
        event: rec.event,
        args: [],
        action: rec.action,
        answered: rec.answers === true,
      };
    case 'rejected':
      return { ...base, kind: 'rejected', sender: rec.client, trigger: `socket.on('${rec.event}')`, event: rec.event, args: [], refused: rec.reason };
    case 'disconnect':
      return { ...base, kind: 'disconnect', sender: rec.client, trigger: 'leaves' };
    case 'note':
      return { ...base, kind: 'note', trigger: `${rec.client}: ${rec.text}` };
    default:
      return null;
  }
}

/**
 * The steps that another server's part of an emit adds (`serve 7`): one per server in
 * `rec.relayed` that reached someone, drawn from that server's lane, its deliveries read like
 * the emit's own.
 */
export function relaySteps(rec, about) {
  // A part that reached nobody draws nothing (the terminal's trace says "via B nobody").
  return (rec.relayed ?? []).filter((part) => (part.sent_to ?? []).length > 0).map((part) => {
    const step = {
      lesson: about.lesson,
      stage: about.stage,
      step: seconds(rec.t_ms ?? 0),
      // No client sends anything in this step: a 'note' step has no caller's lane.
      kind: 'note',
      node: part.node,
      trigger: `via Redis: server ${part.node} delivers ${rec.node}'s emit`,
      args: [],
    };
    deliveries(rec, step, part.sent_to ?? []);
    step.event = rec.event;
    step.not_received_by = [];
    step.why_not = {};
    step.action = null;
    step.notes = [];
    return step;
  });
}

/** A diagram fed with serve's live records; redraws at most once per animation frame. */
export class LiveDiagram {
  constructor(doc, { keep = KEEP, onStatus = () => {} } = {}) {
    this.about = { lesson: 0, stage: 0, title: '' };
    this.diagram = new SequenceDiagram(doc, { title: () => this.about.title, maxSteps: keep });
    this.keep = keep;
    this.dropped = 0;
    this.missed = 0;
    this.stopping = false;
    this.onStatus = onStatus;
    this.scheduled = false;
    this.win = doc.defaultView;
  }

  get svg() {
    return this.diagram.svg;
  }

  /** Takes one record (what followLines hands over). */
  add(rec) {
    if (rec.kind === 'serving') {
      this.about = rec;
      this.onStatus(this);
      return;
    }
    if (rec.kind === 'lagged') {
      this.missed += rec.missed;
      rec = { kind: 'note', t_ms: null, client: 'this page', text: `fell behind and missed ${count(rec.missed, 'record')}` };
    }
    if (rec.kind === 'stopping') this.stopping = true;
    const step = toStep(rec, this.about);
    if (step == null) {
      this.onStatus(this);
      return;
    }
    if (rec.t_ms == null) step.step = '…';
    const records = this.diagram.records;
    records.push(step, ...relaySteps(rec, this.about));
    if (records.length > this.keep) {
      this.dropped += records.length - this.keep;
      records.splice(0, records.length - this.keep);
    }
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    const draw = () => {
      this.scheduled = false;
      this.diagram.render();
      this.onStatus(this);
    };
    if (this.win?.requestAnimationFrame) this.win.requestAnimationFrame(draw);
    else draw();
  }
}

/** Runs the page: follows `/tutor/events` into the diagram inside `#diagram`. */
export async function start(doc) {
  const status = doc.getElementById('status');
  const heading = doc.getElementById('stage');
  const say = (text) => (status.textContent = text);
  const live = new LiveDiagram(doc, {
    onStatus: (l) => {
      heading.textContent = l.about.lesson ? `Lesson ${l.about.lesson} · stage ${l.about.stage} · ${l.about.title}` : '';
      const parts = [l.stopping ? 'the server is stopping' : 'live'];
      parts.push(`${count(l.diagram.records.length, 'step')} drawn`);
      if (l.dropped > 0) parts.push(`${count(l.dropped, 'older step')} no longer shown`);
      if (l.missed > 0) parts.push(`${count(l.missed, 'record')} missed: this page fell behind`);
      say(parts.join(' · '));
    },
  });
  doc.getElementById('diagram').append(live.svg);
  let response;
  try {
    response = await fetch('/tutor/events', { cache: 'no-store' });
  } catch (e) {
    say(`cannot reach the server: ${e.message}`);
    return;
  }
  if (!response.ok) {
    say(`the server refused the live records (${response.status}): ${await response.text()}`);
    return;
  }
  say('live');
  try {
    await followLines(live, response.body);
    live.schedule();
    say(live.stopping ? 'the server has stopped' : 'the live records ended: is the server still running?');
  } catch (e) {
    say(`the live records stopped: ${e.message}`);
  }
}
