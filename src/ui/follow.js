// Feeds a sequence diagram from a stream of JSON Lines as they arrive, for the live page.

/** The longest JSON Lines record `followLines` accepts, in characters. */
export const MAX_LINE = 256 * 1024;

/**
 * Feeds `diagram` from a stream of JSON Lines text as it arrives (a `fetch()` response body, say):
 * each complete line is one record, drawn at once; chunks may split lines anywhere. A line longer
 * than `maxLine` characters stops the feed with an error instead of growing the buffer without
 * bound, and so does a line that is not JSON. Resolves with the number of records drawn when the
 * stream ends.
 */
export async function followLines(diagram, stream, { maxLine = MAX_LINE } = {}) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let drawn = 0;
  const take = (line) => {
    if (line.trim() === '') return;
    let record;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new Error(`record ${drawn + 1} is not JSON: ${e.message}`);
    }
    diagram.add(record);
    drawn += 1;
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      take(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
    }
    if (buffer.length > maxLine) {
      await reader.cancel();
      throw new Error(`record ${drawn + 1} is longer than ${maxLine} characters`);
    }
  }
  take(buffer);
  return drawn;
}
