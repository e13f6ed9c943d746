import fs from "node:fs";
import path from "node:path";
import { codegen } from "@graphql-codegen/core";
import * as typescriptPlugin from "@graphql-codegen/typescript";
import * as operationsPlugin from "@graphql-codegen/typescript-operations";
import { buildSchema, GraphQLSchema, lexicographicSortSchema, parse, printSchema } from "graphql";

/*
 * `npm run codegen`: the TypeScript types of schema.graphql for the Node client, and of the dashboard's operations
 * (which it also checks against the schema). GraphQL Code Generator's core, without its CLI, whose loaders (URLs,
 * GitHub, Apollo Engine) this does not need and which want a newer Node than the one this project supports.
 * CI runs it and fails if either file differs from what is committed.
 */
const root = path.join(__dirname, "..");
const SCALARS = { DateTime: { input: "string | number", output: "string" }, Date: { input: "string", output: "string" } };
const SHARED = { enumsAsTypes: true, useTypeImports: true, skipTypename: true, scalars: SCALARS };

async function generate(schema: GraphQLSchema, file: string, plugin: "typescript" | "typescript-operations", documentsFile?: string): Promise<void> {
  const documents = documentsFile
    ? [{ location: documentsFile, document: parse(fs.readFileSync(path.join(root, documentsFile), "utf8")) }]
    : [];
  const output = await codegen({
    filename: file,
    schema: parse(printSchema(schema)),
    schemaAst: schema,
    documents,
    plugins: [{ [plugin]: {} }],
    pluginMap: { typescript: typescriptPlugin, "typescript-operations": operationsPlugin },
    config: plugin === "typescript" ? SHARED : { ...SHARED, onlyOperationTypes: true },
  });
  fs.writeFileSync(path.join(root, file), output);
  console.log(`wrote ${file}`);
}

async function main(): Promise<void> {
  // Sorted, as the CLI sorts it: the generated files list types and fields alphabetically.
  const schema = lexicographicSortSchema(buildSchema(fs.readFileSync(path.join(root, "schema.graphql"), "utf8")));
  await generate(schema, "clients/node/src/schema.ts", "typescript");
  await generate(schema, "dashboard/src/operations.ts", "typescript-operations", "dashboard/src/operations.graphql");
}

main().catch(err => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
