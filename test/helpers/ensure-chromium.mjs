// npm test's pretest: the dashboard's browser test drives Debian's Chromium (/usr/bin/chromium). Installed here when
// it is missing and this user may (root with apt-get); otherwise the command to run is printed and the tests stop.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

const CHROMIUM = "/usr/bin/chromium";
if (!fs.existsSync(CHROMIUM)) {
  const canInstall = process.getuid?.() === 0 && fs.existsSync("/usr/bin/apt-get");
  if (!canInstall) {
    console.error(`The dashboard's browser test needs Chromium at ${CHROMIUM}: sudo apt-get install -y chromium`);
    process.exit(1);
  }
  console.error("installing chromium for the dashboard's browser test (apt-get install -y chromium)");
  try {
    execFileSync("apt-get", ["install", "-y", "chromium"], { stdio: "ignore" });
  } catch {
    execFileSync("apt-get", ["update"], { stdio: "ignore" });
    execFileSync("apt-get", ["install", "-y", "chromium"], { stdio: "ignore" });
  }
}
