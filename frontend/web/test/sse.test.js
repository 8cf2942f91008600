import { describe, expect, it } from "vitest";
import { SseParser, followEvents } from "../src/sse.js";

describe("SseParser", () => {
  it("parses events split across chunks", () => {
    const p = new SseParser();
    expect(p.feed("id: 1\nevent: que")).toEqual([]);
    expect(p.feed('ued\ndata: {"a":1}\n')).toEqual([]);
    expect(p.feed("\nid: 2\r\nevent: test\r\ndata: x\r\n\r\n")).toEqual([
      { id: "1", event: "queued", data: '{"a":1}' },
      { id: "2", event: "test", data: "x" },
    ]);
  });

  it("joins data lines, skips comments and events without data", () => {
    const p = new SseParser();
    expect(p.feed(": keep-alive\n\nevent: x\n\ndata: a\ndata:b\n\n")).toEqual([
      { id: null, event: "message", data: "a\nb" },
    ]);
  });
});

function streamOf(text) {
  return new Response(new Blob([text]).stream(), { status: 200 });
}

describe("followEvents", () => {
  it("stops at the final event", async () => {
    const seen = [];
    const entry = (seq, kind, data) => `id: ${seq}\nevent: ${kind}\ndata: ${JSON.stringify({ seq, kind, data, at: "t" })}\n\n`;
    const body = entry(1, "test", { position: 1 }) + entry(2, "finished", { verdict: "AC" }) + entry(3, "test", {});
    const final = await followEvents(async () => streamOf(body), (k, d) => seen.push([k, d]));
    expect(final).toBe("finished");
    expect(seen).toEqual([["test", { position: 1 }], ["finished", { verdict: "AC" }]]);
  });

  it("resumes after Last-Event-ID when the stream ends early", async () => {
    const asked = [];
    const bodies = ['id: 4\nevent: test\ndata: {"data":{"position":1}}\n\n', 'id: 5\nevent: failed\ndata: {"data":{"error":"x"}}\n\n'];
    const seen = [];
    const final = await followEvents(
      async (headers) => {
        asked.push(headers["Last-Event-ID"] ?? null);
        return streamOf(bodies.shift());
      },
      (k) => seen.push(k),
    );
    expect(final).toBe("failed");
    expect(asked).toEqual([null, "4"]);
    expect(seen).toEqual(["test", "failed"]);
  });

  it("fails on an error answer", async () => {
    await expect(followEvents(async () => new Response("no", { status: 404 }), () => {})).rejects.toThrow("404");
  });
});
