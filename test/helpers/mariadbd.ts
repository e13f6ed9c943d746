// The throwaway MariaDB servers the tests start live beside the benchmark that uses them too.
export { freePort, ThrowawayMariadb } from "../../src/bench/mariadbd";
