import "reflect-metadata";
import { createSchema, SCHEMA_FILE } from "./schema";

// `npm run schema:emit`: rewrites schema.graphql from the type-graphql classes.
createSchema(true).then(() => console.log(`wrote ${SCHEMA_FILE}`));
