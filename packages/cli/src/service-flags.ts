/**
 * The service's flags, shared by `serve` and the commands that open its store locally, turned into
 * a {@link ServiceConfig} (flags win over KEYWARD_* variables, which win over the `--config` file,
 * which wins over defaults).
 *
 * @module
 */
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import { readFileBounded } from "@keyward/platform/io";
import type { ConfigFile, ServiceConfig } from "@keyward/server";
import { configPath, dataDir, environment } from "./config.ts";
import type { serve } from "./specs/misc.ts";

/** Values of `keyward serve`'s flags (or of the store flags, a subset). */
type Values = { readonly [K in keyof (typeof serve)["options"]]?: string | boolean | undefined };

/** The configuration the given flag values describe. */
export async function serviceConfigFrom(values: Values): Promise<ServiceConfig> {
  const { loadServiceConfig, readConfigFile, DATA_DIR_KEY } = await import("@keyward/server");
  const dir = values["data-dir"];
  try {
    const path = configPath(typeof values.config === "string" ? values.config : undefined);
    const file: ConfigFile | undefined = path === undefined ? undefined : readConfigFile(path);
    // A dataDir that is not a path is one of the problems the server lists with the others.
    const fileDir = file?.values.get(DATA_DIR_KEY);
    // The server's option table maps each flag (by its name) to its setting.
    const config = loadServiceConfig(
      dataDir(
        typeof dir === "string" ? dir : undefined,
        typeof fileDir === "string" && fileDir !== "" ? fileDir : undefined,
      ),
      values,
      environment(),
      file,
    );
    // A key file the operator named is checked now, whatever the command goes on to do: a FIFO,
    // a device, a directory, a missing or oversized file is ERR_IO naming it (exit 2), never a
    // read that blocks or a key made in its place.
    if (config.masterKeyFileExplicit)
      readFileBounded(config.masterKeyFile, { kind: "key", what: "master key file" }).fill(0);
    return config;
  } catch (e) {
    // The configuration is made of these flags and KEYWARD_* variables: a bad one (an address that
    // is not HOST:PORT, say) is a usage error, exit 2, not a rejection.
    if (isKeywardError(e, "ERR_SERVICE_CONFIG"))
      throw new KeywardError("ERR_USAGE", `configuration: ${e.message}`, { cause: e });
    throw e;
  }
}
