import { loadConfig, loadEnvFile } from "./src/config";
import { createDataSource } from "./src/data-source";

// The DataSource the TypeORM CLI uses (`npm run migration:run`); the app builds the same one in src/index.ts.
loadEnvFile();
export default createDataSource(loadConfig());
