import { describe, expect, it } from "vitest";
import { countEvents, formatMemory, scoreText, statusText } from "../src/results.js";

describe("results", () => {
  it("ends the status with the verdict and the counts", () => {
    expect(statusText("WA", { passed: 1, failed: 1 }, { passed: 2, failed: 0 })).toBe(
      "Judged: WA, shown 1/2 passed, hidden 2/2 passed",
    );
    expect(statusText("AC", { passed: 2, failed: 0 }, null, "Samples")).toBe("Samples: AC, shown 2/2 passed");
  });
  it("counts test events by kind", () => {
    expect(countEvents([{ verdict: "AC" }, { verdict: "WA" }, { verdict: "AC", hidden: true }])).toEqual({
      shown: { passed: 1, failed: 1 }, hidden: { passed: 1, failed: 0 },
    });
  });
  it("formats memory", () => {
    expect(formatMemory(840)).toBe("840 KB");
    expect(formatMemory(2048)).toBe("2.0 MB");
    expect(formatMemory(null)).toBe("");
  });
});

describe("scoreText", () => {
  it("shows a scoring problem's score, and nothing for a pass-fail one", () => {
    expect(scoreText(40, 100)).toBe(", score 40/100");
    expect(scoreText(7.5, null)).toBe(", score 7.5");
    expect(scoreText(undefined, undefined)).toBe("");
  });
});
