// A control strip for the chat page at `/`, added by `serve` when the stage answers events other
// than 'chat message' (rooms, acknowledgements). It is generated from what the stage's handlers
// declare (`/tutor/about.json`: each event they answer, whether it takes an acknowledgement, the
// rooms the stage declares), so a tab can do what the lesson's own clients do:
//
//   socket.emit('join', 'a')                                  // a plain emit
//   socket.timeout(5000).emit('question', 'ready?', (err, answer) => { … })   // with an ack
//
// It uses the page's own `socket` and `show` (declared by the page's script), and shows every
// event the page does not already show, as text. Nothing here knows a lesson.

/** How long an emit with an acknowledgement waits for the answer. */
const ACK_MS = 5000;

/** Events the chat page shows itself (or the tutor's plumbing). */
const SHOWN = new Set(['chat message', 'hello', 'hi', 'tutor:fence']);

const shown = (args) => args.map((a) => JSON.stringify(a)).join(', ');

function control(doc, c) {
  const form = doc.createElement('form');
  form.className = 'control';
  form.dataset.event = c.event;
  const code = doc.createElement('code');
  code.textContent = c.ack ? `socket.timeout(${ACK_MS}).emit('${c.event}', ` : `socket.emit('${c.event}', `;
  const input = doc.createElement('input');
  input.name = 'args';
  input.value = JSON.stringify(c.args).slice(1, -1);
  input.setAttribute('aria-label', `arguments of '${c.event}', as JSON`);
  input.size = Math.max(12, input.value.length + 2);
  const close = doc.createElement('code');
  close.textContent = c.ack ? ', (err, answer) => …)' : ')';
  const button = doc.createElement('button');
  button.textContent = c.ack ? 'emit and wait for the answer' : 'emit';
  const js = doc.createElement('small');
  js.textContent = c.js ? `  the server runs: ${c.js}` : '';
  form.append(code, input, close, ' ', button, js);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    let args;
    try {
      args = JSON.parse(`[${input.value}]`);
    } catch (err) {
      show(`the arguments of '${c.event}' are not JSON: ${err.message}`, 'notice');
      return;
    }
    if (c.ack) {
      socket.timeout(ACK_MS).emit(c.event, ...args, (err, ...answer) => {
        if (err) show(`no answer to '${c.event}' within ${ACK_MS} ms (the server did not call the callback)`, 'notice answer');
        else show(`answer to '${c.event}': ${shown(answer)}`, 'notice answer');
      });
    } else {
      socket.emit(c.event, ...args);
    }
  });
  return form;
}

async function addControls(doc) {
  let about;
  try {
    const response = await fetch('/tutor/about.json', { cache: 'no-store' });
    about = await response.json();
  } catch (e) {
    show(`cannot read what this server answers: ${e.message}`, 'notice');
    return;
  }
  const strip = doc.createElement('section');
  strip.id = 'controls';
  strip.style.cssText = 'padding:0.4rem 1rem;background:#f6f8fa;border-bottom:1px solid #ddd;font-size:0.9rem';
  const title = doc.createElement('div');
  const rooms = about.rooms?.length ? `; rooms it declares: ${about.rooms.map((r) => `'${r}'`).join(', ')}` : '';
  title.textContent = `This server also answers these events${rooms}:`;
  strip.append(title, ...about.controls.map((c) => control(doc, c)));
  if (about.namespaces?.length) {
    const more = doc.createElement('div');
    more.textContent = 'and these namespaces, joined over the same connection:';
    strip.append(more, ...about.namespaces.map((n) => joinNamespace(doc, n)));
  }
  if (!about.chat) {
    const chat = doc.createElement('div');
    chat.id = 'no-chat';
    chat.textContent = "(The box at the bottom sends 'chat message', which this server does not answer.)";
    strip.append(chat);
  }
  doc.getElementById('status').after(strip);
  // Whatever arrives that the page does not show itself: shown here, as text.
  socket.onAny((event, ...args) => {
    if (!SHOWN.has(event)) show(`${event}: ${shown(args)}`, 'event');
  });
}

/**
 * A form that joins one more namespace over the page's connection, as a second `io(nsp, { auth })`
 * in the same page does (socket.io-client's Manager multiplexes them), and shows what that socket
 * gets: its connect, a middleware's `connect_error` (message and data), and every event.
 */
function joinNamespace(doc, [nsp, middleware]) {
  const form = doc.createElement('form');
  form.className = 'control namespace';
  form.dataset.namespace = nsp;
  const open = doc.createElement('code');
  open.textContent = 'io(';
  const path = doc.createElement('input');
  path.name = 'nsp';
  // A pattern's example: the part before the braces and a name.
  path.value = JSON.stringify(nsp.replace(/\{[^}]*\}/, 'red'));
  path.setAttribute('aria-label', 'the namespace, as JSON');
  const mid = doc.createElement('code');
  mid.textContent = ', { auth: ';
  const auth = doc.createElement('input');
  auth.name = 'auth';
  auth.value = '{}';
  auth.setAttribute('aria-label', 'the auth object, as JSON');
  const close = doc.createElement('code');
  close.textContent = ' })';
  const button = doc.createElement('button');
  button.textContent = 'connect';
  const js = doc.createElement('small');
  js.textContent = middleware ? `  its middleware: ${middleware}` : '';
  form.append(open, path, mid, auth, close, ' ', button, js);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    let name;
    let data;
    try {
      name = JSON.parse(path.value);
      data = JSON.parse(auth.value);
    } catch (err) {
      show(`the namespace and the auth are JSON: ${err.message}`, 'notice');
      return;
    }
    const other = io(name, { auth: data });
    other.on('connect', () => show(`connected to ${name}`, 'notice'));
    other.on('connect_error', (err) => {
      const extra = err.data === undefined ? '' : ` (data: ${JSON.stringify(err.data)})`;
      show(`connect_error on ${name}: ${err.message}${extra}`, 'notice');
    });
    other.onAny((event, ...args) => show(`${name} ${event}: ${shown(args)}`, 'event'));
  });
  return form;
}

addControls(document);
