#!/usr/bin/env node
// `npx outpost` in this repository: runs the bundled CLI, building it first when cli/ changed.
// An installed copy of the bundle (dist/cli/outpost.mjs) runs on its own, without this launcher.
import { buildCli, CLI_BUNDLE, isFresh } from "../scripts/build-cli.mjs";

if (!(await isFresh())) await buildCli();
await import(CLI_BUNDLE);
