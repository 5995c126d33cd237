// The SVG pieces of the browser-side diagram, as src/ui/svg.rs has them: text width, the
// characters written as visible escapes, the style sheet, and a scene of elements in drawing order.
// Elements are made with createElementNS and text is set with textContent, never parsed as markup.

export const SVG_NS = 'http://www.w3.org/2000/svg';

// The estimated advance of one character, in tenths of a pixel (svg.rs's CHAR_TENTHS).
const CHAR_TENTHS = 75;

export const chars = (text) => [...text];
export const count = (text) => chars(text).length;


/** The estimated width of `text` in the diagram's font (see svg.rs). */
export function textWidth(text) {
  return Math.ceil((count(text) * CHAR_TENTHS) / 10);
}

// A stage's heading (rtd-title, 13px bold) is measured wider (svg.rs's TITLE_TENTHS).
const TITLE_TENTHS = 82;
const widthIn = (cls, text) => Math.ceil((count(text) * (cls.split(' ').includes('rtd-title') ? TITLE_TENTHS : CHAR_TENTHS)) / 10);

/**
 * Characters that XML cannot hold, and everything the terminal and JSON outputs escape (the
 * bidirectional marks, overrides and isolates, the line and paragraph separators), written as
 * visible escapes (`\u{1b}`), as svg.rs does. Markup characters need nothing here: textContent
 * keeps them text.
 */
export function visible(text) {
  let out = '';
  for (const c of text) {
    const n = c.codePointAt(0);
    const control = n < 0x20 || (n >= 0x7f && n <= 0x9f);
    const bidi = n === 0x061c || n === 0x200e || n === 0x200f || (n >= 0x202a && n <= 0x202e) || (n >= 0x2066 && n <= 0x2069);
    const separator = n === 0x2028 || n === 0x2029;
    out += control || bidi || separator || n === 0xfffe || n === 0xffff ? `\\u{${n.toString(16)}}` : c;
  }
  return out;
}

// The colours and the rules, as svg.rs has them (PALETTE, RULES): plain colours, no var(), so
// that renderers other than browsers paint them too.
const PALETTE = {
  bg: ['#ffffff', '#1e2227'],
  fg: ['#1f2328', '#e6edf3'],
  dim: ['#57606a', '#9da7b3'],
  lane: ['#8c959f', '#6e7681'],
  head: ['#eaeef2', '#2d333b'],
  send: ['#0550ae', '#79c0ff'],
  ok: ['#1a7f37', '#56d364'],
  no: ['#cf222e', '#ff7b72'],
  'code-bg': ['#fff8c5', '#3b3520'],
  code: ['#6e4a00', '#e3b341'],
};
const RULES = [
  ['text', 'font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12px;white-space:pre', [['fill', 'fg']]],
  ['.rtd-bg', '', [['fill', 'bg']]],
  ['.rtd-title', 'font-weight:bold;font-size:13px', []],
  ['.rtd-caption', '', [['fill', 'dim']]],
  ['.rtd-rule', 'stroke-width:1', [['stroke', 'head']]],
  ['.rtd-head', '', [['fill', 'head'], ['stroke', 'lane']]],
  ['.rtd-name', 'font-weight:bold', []],
  ['.rtd-life', 'stroke-width:1.5', [['stroke', 'lane']]],
  ['.rtd-absent', 'stroke-width:1;stroke-dasharray:2 4', [['stroke', 'lane']]],
  ['.rtd-joined', '', [['fill', 'lane']]],
  ['.rtd-label', 'paint-order:stroke;stroke-width:4px;stroke-linejoin:round', [['stroke', 'bg']]],
  ['.rtd-send', 'stroke-width:1.5', [['stroke', 'send']]],
  ['.rtd-send-head', '', [['fill', 'send']]],
  ['.rtd-deliver', 'stroke-width:1.5', [['stroke', 'ok']]],
  ['.rtd-deliver-head', '', [['fill', 'ok']]],
  ['.rtd-reply', 'stroke-width:1.5;stroke-dasharray:5 3', [['stroke', 'dim']]],
  ['.rtd-reply-head', '', [['fill', 'dim']]],
  ['.rtd-ignored', 'stroke-width:1;stroke-dasharray:1 3', [['stroke', 'dim']]],
  ['.rtd-ignored-head', '', [['fill', 'dim']]],
  ['.rtd-cross', 'stroke-width:2.5', [['stroke', 'no']]],
  ['.rtd-no', '', [['fill', 'no']]],
  ['.rtd-ok', '', [['fill', 'ok']]],
  ['.rtd-dim', '', [['fill', 'dim']]],
  ['.rtd-code-box', '', [['fill', 'code-bg'], ['stroke', 'code']]],
  ['.rtd-code', '', [['fill', 'code']]],
];

/** The style sheet svg.rs writes, character for character. */
export function styleSheet() {
  const r = 'svg.rt-diagram';
  const paints = (paint, dark) => paint.map(([property, name]) => `${property}:${PALETTE[name][dark ? 1 : 0]}`).join(';');
  const painted = RULES.filter(([, , paint]) => paint.length > 0);
  const lines = [
    ...RULES.map(([selector, fixed, paint]) => {
      const colours = paints(paint, false);
      return `${r} ${selector}{${fixed}${fixed && colours ? ';' : ''}${colours}}`;
    }),
    '@media (prefers-color-scheme: dark){',
    ...painted.map(([selector, , paint]) => `${r} ${selector}{${paints(paint, true)}}`),
    '}',
    ...painted.map(([selector, , paint]) => `:is(html.light,html.rust) ${r} ${selector}{${paints(paint, false)}}`),
    ...painted.map(([selector, , paint]) => `:is(html.coal,html.navy,html.ayu) ${r} ${selector}{${paints(paint, true)}}`),
  ];
  return '\n' + lines.join('\n') + '\n';
}

/** Elements in drawing order, and how far they reach (svg.rs's Scene). */
export class Scene {
  constructor(doc) {
    this.doc = doc;
    this.nodes = [];
    this.right = 0;
    this.bottom = 0;
  }
  reach(x, y) {
    this.right = Math.max(this.right, x);
    this.bottom = Math.max(this.bottom, y);
  }
  element(name, attrs) {
    const el = this.doc.createElementNS(SVG_NS, name);
    for (const [k, v] of attrs) el.setAttribute(k, String(v));
    this.nodes.push(el);
    return el;
  }
  line([x1, y1], [x2, y2], cls) {
    this.reach(Math.max(x1, x2), Math.max(y1, y2));
    return this.element('line', [['class', cls], ['x1', x1], ['y1', y1], ['x2', x2], ['y2', y2]]);
  }
  polygon(points, cls) {
    for (const [x, y] of points) this.reach(x, y);
    this.element('polygon', [['class', cls], ['points', points.map(([x, y]) => `${x},${y}`).join(' ')]]);
  }
  rect([x, y], [w, h], cls) {
    this.reach(x + w, y + h);
    this.element('rect', [['class', cls], ['x', x], ['y', y], ['width', w], ['height', h], ['rx', 4]]);
  }
  dot([x, y], r, cls) {
    this.reach(x + r, y + r);
    this.element('circle', [['class', cls], ['cx', x], ['cy', y], ['r', r]]);
  }
  text([x, y], middle, cls, pieces, full) {
    const width = pieces.reduce((sum, [, t]) => sum + widthIn(cls, t), 0);
    this.reach(middle ? x + Math.trunc(width / 2) : x + width, y + 4);
    const attrs = [['class', cls], ['x', x], ['y', y]];
    if (middle) attrs.push(['text-anchor', 'middle']);
    const el = this.element('text', attrs);
    if (full != null) {
      const title = this.doc.createElementNS(SVG_NS, 'title');
      title.textContent = visible(full);
      el.append(title);
    }
    for (const [pieceClass, piece] of pieces) {
      if (piece === '') continue;
      if (pieceClass == null) {
        el.append(this.doc.createTextNode(visible(piece)));
      } else {
        const span = this.doc.createElementNS(SVG_NS, 'tspan');
        span.setAttribute('class', pieceClass);
        span.textContent = visible(piece);
        el.append(span);
      }
    }
  }
  append(other) {
    this.reach(other.right, other.bottom);
    this.nodes.push(...other.nodes);
  }
}
