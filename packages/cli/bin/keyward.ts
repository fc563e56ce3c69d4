#!/usr/bin/env node
import { quietSqliteWarning } from "@keyward/server/sqlite-warning";
import { main } from "../src/main.ts";

quietSqliteWarning(); // before any command loads node:sqlite

// No top-level await: the single executable's main script is CommonJS (Node 24 SEA).
void main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
