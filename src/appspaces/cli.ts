import { Plan } from "./appspace.entity";
import { createAppspace } from "./appspace.service";
import { parseFlags, runCommand } from "../cli";

const USAGE = "usage: npm run appspace:create -- --name NAME [--currency EUR] [--retention DAYS] [--plan free|pro|enterprise] [--json]";

const [command, ...rest] = process.argv.slice(2);
if (command !== "create") {
  console.error(USAGE);
  process.exit(2);
}

runCommand(async db => {
  const flags = parseFlags(rest);
  if (typeof flags.name !== "string") throw new Error(`--name is required\n${USAGE}`);
  const created = await createAppspace(db, {
    name: flags.name,
    currency: typeof flags.currency === "string" ? flags.currency : undefined,
    retentionDays: typeof flags.retention === "string" ? Number(flags.retention) : undefined,
    plan: typeof flags.plan === "string" ? (flags.plan as Plan) : undefined,
  });
  if (flags.json) {
    console.log(JSON.stringify(created));
  } else {
    console.log(`Created appspace "${flags.name}" (id ${created.appspaceId}). The keys are shown only this once:`);
    console.log(`  publishable key (send events):        ${created.publishableKey}`);
    console.log(`  secret key (read reports, delete):    ${created.secretKey}`);
  }
});
