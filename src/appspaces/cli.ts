import { Plan } from "./appspace.entity";
import { KeyKind } from "./api-key.entity";
import { createAppspace, createKey, listKeys, revokeKey, rotateKey, setRetention, updateSettings } from "./appspace.service";
import { oldestKept } from "../days";
import { READ_MODELS } from "../read-models";
import { purgeExpired } from "../retention/retention";
import { parseFlags, runCommand } from "../cli";
import { SCOPE_OPERATIONS, SCOPES } from "./scopes";

const USAGE = `usage:
  npm run appspace:create -- --name NAME [--currency EUR] [--retention DAYS] [--plan free|pro|enterprise] [--json]
  npm run appspace -- settings --appspace ID --set '{"maxOrderValue": 5000}'
  npm run appspace -- retention --appspace ID --days DAYS
  npm run appspace -- purge                  (deletes what every appspace holds beyond its retention, now)
  npm run keys -- list --appspace ID [--json]
  npm run keys -- create --appspace ID --kind publishable|secret [--scopes SCOPES] [--origins ORIGINS] [--json]
      SCOPES: comma-separated, of ${SCOPES.map(s => `${s} (${SCOPE_OPERATIONS[s]})`).join(", ")};
              by default admin for a secret key; a publishable key has ingest only
      ORIGINS: comma-separated, like https://shop.example,http://localhost:5173: a browser may send the key
               from these origins only (its Origin header); by default from any
  npm run keys -- rotate --key KEY [--grace-hours 24] [--json]
  npm run keys -- revoke --key KEY`;

const args = process.argv.slice(2);
const [command, sub] = args[0] === "keys" ? ["keys", args[1]] : [args[0], undefined];
const rest = args.slice(command === "keys" ? 2 : 1);

function need(flags: Record<string, string | true>, name: string): string {
  if (typeof flags[name] !== "string") throw new Error(`--${name} is required\n${USAGE}`);
  return flags[name] as string;
}

/** A flag's value when given; a flag given without one is refused. */
function optional(flags: Record<string, string | true>, name: string): string | undefined {
  if (flags[name] === true) throw new Error(`--${name} needs a value\n${USAGE}`);
  return flags[name] as string | undefined;
}

function appspaceId(flags: Record<string, string | true>): number {
  const id = Number(need(flags, "appspace"));
  if (!Number.isInteger(id) || id < 1) throw new Error("--appspace must be an appspace id");
  return id;
}

const print = (json: boolean, value: unknown, text: string) => console.log(json ? JSON.stringify(value) : text);

runCommand(async db => {
  const flags = parseFlags(rest);
  const json = flags.json === true;
  switch (`${command} ${sub ?? ""}`.trim()) {
    case "create": {
      const name = need(flags, "name");
      const created = await createAppspace(db, {
        name,
        currency: typeof flags.currency === "string" ? flags.currency : undefined,
        retentionDays: typeof flags.retention === "string" ? Number(flags.retention) : undefined,
        plan: typeof flags.plan === "string" ? (flags.plan as Plan) : undefined,
      });
      print(json, created, [
        `Created appspace "${name}" (id ${created.appspaceId}). The keys are shown only this once:`,
        `  publishable key (send events):        ${created.publishableKey}`,
        `  secret key (admin: read, delete):     ${created.secretKey}`,
      ].join("\n"));
      return;
    }
    case "settings": {
      let overrides: unknown;
      try {
        overrides = JSON.parse(need(flags, "set"));
      } catch {
        throw new Error("--set must be a JSON object of settings");
      }
      const settings = await updateSettings(db, appspaceId(flags), overrides as object);
      console.log(JSON.stringify(settings, null, json ? 0 : 2));
      return;
    }
    case "retention": {
      const days = Number(need(flags, "days"));
      await setRetention(db, appspaceId(flags), days);
      console.log(`Appspace ${appspaceId(flags)} keeps ${days} days, from ${oldestKept(days, new Date())}; older data goes at the next purge.`);
      return;
    }
    case "purge": {
      const t = performance.now();
      const purged = await purgeExpired(db, READ_MODELS);
      const total = [...purged.values()].reduce((a, b) => a + b, 0);
      for (const [id, events] of purged) console.log(`appspace ${id}: ${events} events deleted`);
      console.log(`Purged ${total} events in ${((performance.now() - t) / 1000).toFixed(1)} s.`);
      return;
    }
    case "keys list": {
      const keys = await listKeys(db, appspaceId(flags));
      print(json, keys, keys.map(k => [
        `${k.prefix}…  ${k.kind.padEnd(11)}  ${k.status.padEnd(8)}  ${k.scopes.join(",").padEnd(12)}  created ${k.createdAt}`,
        k.expiresAt ? `  expires ${k.expiresAt}` : "",
        k.origins ? `  origins ${k.origins.join(",")}` : "",
      ].join("")).join("\n"));
      return;
    }
    case "keys create": {
      const created = await createKey(db, appspaceId(flags), need(flags, "kind") as KeyKind, {
        scopes: optional(flags, "scopes"),
        origins: optional(flags, "origins"),
      });
      const { key, scopes, origins } = created;
      print(json, origins ? created : { key, scopes }, [
        `New key (shown only this once): ${key}`,
        `  scopes:  ${scopes.join(", ")}`,
        `  origins: ${origins?.join(", ") ?? "any"}`,
      ].join("\n"));
      return;
    }
    case "keys rotate": {
      const hours = typeof flags["grace-hours"] === "string" ? Number(flags["grace-hours"]) : 24;
      const rotated = await rotateKey(db, need(flags, "key"), hours * 3_600_000);
      print(json, { key: rotated.key, oldKeyExpiresAt: rotated.oldKeyExpiresAt.toISOString() },
        `New key (shown only this once): ${rotated.key}\nThe old key keeps working until ${rotated.oldKeyExpiresAt.toISOString()}.`);
      return;
    }
    case "keys revoke": {
      if (!(await revokeKey(db, need(flags, "key")))) throw new Error("no live key matches");
      console.log("Revoked; the key is refused from its next request on.");
      return;
    }
    default:
      console.error(USAGE);
      process.exit(2);
  }
});
