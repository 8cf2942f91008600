// Server-Sent Events over fetch(): EventSource cannot send an Authorization header, and
// the API key must never travel in a URL. parseEvents is fed the body's text as it
// arrives and returns the complete events seen so far (the SSE format: "field: value"
// lines, a blank line ends an event; comments start with ":").

/** @typedef {{id: string|null, event: string, data: string}} SseEvent */

export class SseParser {
  constructor() {
    this.buffer = "";
    /** @type {{id: string|null, event: string, data: string[]}} */
    this.current = { id: null, event: "", data: [] };
  }

  /** @param {string} chunk @returns {SseEvent[]} */
  feed(chunk) {
    this.buffer += chunk;
    const events = [];
    let end;
    while ((end = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const sep = this.buffer.startsWith("\r\n", end) ? 2 : 1;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + sep);
      if (line === "") {
        if (this.current.data.length) {
          events.push({
            id: this.current.id,
            event: this.current.event || "message",
            data: this.current.data.join("\n"),
          });
        }
        this.current = { id: null, event: "", data: [] };
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") this.current.data.push(value);
      else if (field === "event") this.current.event = value;
      else if (field === "id") this.current.id = value;
    }
    return events;
  }
}

export const FINAL_EVENTS = new Set(["finished", "cancelled", "failed"]);

/**
 * The job's events (each entry's `data`), until its final one; reconnects after Last-Event-ID when
 * the stream ends early (a proxy's timeout, a restart), at most `retries` times.
 * @param {(headers: Record<string,string>) => Promise<Response>} open
 * @param {(kind: string, data: any) => void} onEvent
 */
export async function followEvents(open, onEvent, retries = 5) {
  let lastId = null;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const headers = { Accept: "text/event-stream" };
    if (lastId !== null) headers["Last-Event-ID"] = lastId;
    const response = await open(headers);
    if (!response.ok || !response.body) throw new Error(`event stream: HTTP ${response.status}`);
    const parser = new SseParser();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const event of parser.feed(value)) {
        if (event.id !== null) lastId = event.id;
        let logged = null; // the job's log entry: {seq, kind, data, at}
        try {
          logged = JSON.parse(event.data);
        } catch {
          continue; // not one of ours
        }
        onEvent(event.event, logged?.data ?? {});
        if (FINAL_EVENTS.has(event.event)) {
          await reader.cancel().catch(() => {});
          return event.event;
        }
      }
    }
  }
  return null;
}
