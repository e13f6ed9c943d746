import fs from "node:fs";
import path from "node:path";
import { buildSchema, findBreakingChanges, printSchema } from "graphql";
import { createSchema } from "../src/schema";

const root = path.join(__dirname, "..");

describe("the GraphQL contract", () => {
  it("schema.graphql is what the type-graphql classes emit (run `npm run schema:emit` when this fails)", async () => {
    const emitted = printSchema(await createSchema());
    const committed = printSchema(buildSchema(fs.readFileSync(path.join(root, "schema.graphql"), "utf8")));
    expect(committed).toBe(emitted);
  });

  it("schema.graphql breaks nothing in the public contract", () => {
    const contract = buildSchema(fs.readFileSync(path.join(__dirname, "fixtures", "contract.graphql"), "utf8"));
    const schema = buildSchema(fs.readFileSync(path.join(root, "schema.graphql"), "utf8"));
    expect(findBreakingChanges(contract, schema)).toEqual([]);
  });

  it("the contract test would catch a removed field", () => {
    const contract = buildSchema(fs.readFileSync(path.join(__dirname, "fixtures", "contract.graphql"), "utf8"));
    const broken = buildSchema(fs.readFileSync(path.join(root, "schema.graphql"), "utf8").replace(/\n  cartId: String\n/, "\n"));
    expect(findBreakingChanges(contract, broken).map(c => c.description)).toEqual(["EventInput.cartId was removed."]);
  });
});
