#!/usr/bin/env node
import { quietSqliteWarning } from "@keyward/server/sqlite-warning";
import { main } from "../src/main.ts";

quietSqliteWarning(); // before any command loads node:sqlite

process.exitCode = await main(process.argv.slice(2));
