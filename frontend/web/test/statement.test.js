import { describe, expect, it } from "vitest";
import { languageName, statementFile, statementLanguage } from "../src/statement.js";

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

describe("statementLanguage", () => {
  it("is the one asked for when the problem has it, else English, else the first", () => {
    expect(statementLanguage(["en", "sv"], "sv")).toBe("sv");
    expect(statementLanguage(["en", "sv"], "de")).toBe("en");
    expect(statementLanguage(["en", "sv"], null)).toBe("en");
    expect(statementLanguage(["pt-BR", "sv"], null)).toBe("pt-BR");
    expect(statementLanguage([], "sv")).toBeUndefined();
  });
});

describe("languageName", () => {
  it("is the language's name in itself, capitalised, else the code", () => {
    expect(languageName("en")).toBe("English");
    expect(languageName("sv")).toBe("Svenska");
    expect(languageName("pt-BR")).toMatch(/^Português/);
    expect(languageName("x-not-a-code!")).toBe("x-not-a-code!");
  });
});
