import { describe, expect, it } from "vitest";
import { UsageError } from "./output.js";
import { buildSubmitBody, parseAssignment } from "./spec.js";

describe("--set path=value", () => {
  it("reads JSON values and falls back to plain strings", () => {
    expect(parseAssignment("training.epochs=30")).toEqual({ path: ["training", "epochs"], value: 30 });
    expect(parseAssignment("device=cpu")).toEqual({ path: ["device"], value: "cpu" });
    expect(parseAssignment('variants=[{"activation":"relu"}]').value).toEqual([{ activation: "relu" }]);
    expect(parseAssignment("name=a=b")).toEqual({ path: ["name"], value: "a=b" });
  });

  it("refuses what is not path=value, and prototype paths", () => {
    for (const bad of ["epochs", "=3", "a..b=1", "__proto__.x=1", "a.constructor=1"]) {
      expect(() => parseAssignment(bad), bad).toThrow(UsageError);
    }
  });
});

describe("the submitted body", () => {
  const readFile = (files: Record<string, string>) => (p: string) => files[p] ?? "";

  it("is the preset plus each override, nested where the path says", () => {
    expect(
      buildSubmitBody({
        preset: "chapter8-keras",
        set: ["training.epochs=3", "training.optimizer.learningRate=0.1"],
      }),
    ).toEqual({ preset: "chapter8-keras", training: { epochs: 3, optimizer: { learningRate: 0.1 } } });
  });

  it("starts from the spec file; overrides and --name win over it", () => {
    const body = buildSubmitBody({
      file: "s.json",
      set: ["training.epochs=5"],
      name: "mine",
      readFile: readFile({ "s.json": '{"name":"file","training":{"epochs":1,"repeats":2}}' }),
    });
    expect(body).toEqual({ name: "mine", training: { epochs: 5, repeats: 2 } });
  });

  it("needs a file or a preset, a JSON object in the file, and objects along a --set path", () => {
    expect(() => buildSubmitBody({})).toThrow(/spec file .* or --preset/);
    expect(() => buildSubmitBody({ file: "a", readFile: readFile({ a: "[1]" }) })).toThrow(/JSON object/);
    expect(() => buildSubmitBody({ file: "a", readFile: readFile({ a: "{" }) })).toThrow(/is not JSON/);
    expect(() => buildSubmitBody({ preset: "p", set: ["name=x", "name.first=y"] })).toThrow(
      /name is not an object/,
    );
  });
});
