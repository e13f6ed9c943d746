import { log } from "../../src/log";

// The servers the tests start in-process log every request: silent unless LOG_LEVEL asks (captureLogs reads lines itself).
log.level = process.env.LOG_LEVEL ?? "silent";
