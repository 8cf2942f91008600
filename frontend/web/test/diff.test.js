import { describe, expect, it } from "vitest";
import { firstDifference, splitAt } from "../src/diff.js";

describe("firstDifference", () => {
  it("is null when only trailing whitespace and blank lines differ", () => {
    expect(firstDifference("3\n4\n", "3  \r\n4\n\n\n")).toBeNull();
  });
  it("finds the line and column", () => {
    expect(firstDifference("dan\nperez\n", "dan\npeRez\n")).toEqual({
      line: 2, column: 3, expected: "perez", got: "peRez",
    });
  });
  it("reports a missing or extra line", () => {
    expect(firstDifference("1\n2\n", "1\n")).toEqual({ line: 2, column: 1, expected: "2", got: null });
    expect(firstDifference("1\n", "1\n2")).toEqual({ line: 2, column: 1, expected: null, got: "2" });
  });
});

describe("splitAt", () => {
  it("cuts at the difference, keeping the rest", () => {
    expect(splitAt("dan\npeRez\nx", { line: 2, column: 3 })).toEqual(["dan\npe", "Rez", "\nx"]);
    expect(splitAt("abc", { line: 1, column: 1 })).toEqual(["", "abc", ""]);
  });
  it("marks nothing past the text's end", () => {
    expect(splitAt("1", { line: 2, column: 1 })).toEqual(["1", "", ""]);
  });
});
