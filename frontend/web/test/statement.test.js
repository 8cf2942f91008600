import { describe, expect, it } from "vitest";
import { statementFile } from "../src/statement.js";

const FILES = "/api/v1/problems/sum/statement/files/";
const ORIGIN = "https://judge.example";

describe("statementFile", () => {
  it("is the path of one of the statement's own files", () => {
    expect(statementFile(`${FILES}fig.png`, FILES, ORIGIN)).toBe(`${FILES}fig.png`);
    expect(statementFile(`${FILES}sub/f%20g.png`, FILES, ORIGIN)).toBe(`${FILES}sub/f%20g.png`);
  });
  it("is null for any other route, however it is spelled", () => {
    for (const src of [
      "/api/v1/keys",
      "/api/v1/problems/other/attachments/a.txt",
      `${FILES}../../../keys`,
      `${FILES}%2e%2e/%2e%2e/%2E%2E/keys`,
      `${FILES}..\\..\\..\\keys`,
      "/api/v1/problems/sum/statement/files", // the folder itself
      "https:/api/v1/keys",
      "//evil.example/api/v1/problems/sum/statement/files/fig.png",
      `https://evil.example${FILES}fig.png`,
      "blob:https://judge.example/x",
      "",
    ]) {
      expect(statementFile(src, FILES, ORIGIN), src).toBeNull();
    }
  });
});
