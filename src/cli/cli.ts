// The mxproxy command line: a thin layer over the library. With cli-fast.ts (the entry, which
// runs the two everyday commands without yargs) and _cli-output.ts, the only code that reads
// argv, prints or sets the exit code. Exit codes: 0 ok, 1 invalid input / drift / output problem, 2 usage error,
// 3 internal error (a bug: please report it).
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { BACKENDS } from "../backends/_registry.js";
import { VERSION } from "../plan/_version.js";
import * as run from "./_commands.js";
import { emit, fail } from "./_output.js";

const EPILOG = `Exit codes: 0 ok, 1 invalid input, drift or output problem, 2 usage error, 3 internal error.
Set NO_COLOR=1 to disable colour. Documentation: README.md of the mxproxy package.`;

function cli(argv: string[]): Argv {
  return yargs(argv)
    .scriptName("mxproxy")
    .usage("$0 <command> [options]\n\nRender equivalent nginx, Apache, Caddy and Traefik configs for a Matrix homeserver from one YAML file.")
    .command(
      "render <site>",
      "Validate SITE and write configs for every backend (or check them)",
      (y) =>
        y
          .positional("site", { type: "string", describe: "site file (YAML), or - for standard input", demandOption: true })
          .option("out", { alias: "o", type: "string", default: "out", describe: "output folder" })
          .option("backend", { alias: "b", type: "string", array: true, choices: BACKENDS, describe: "backend to render (repeat for several; default: all)" })
          .option("check", { type: "boolean", default: false, describe: "write nothing; exit 1 with a diff when the files on disk differ" })
          .option("stdout", { type: "boolean", default: false, describe: "print one backend's config instead of writing files (needs exactly one --backend)" })
          .example("$0 render site.yaml --out out/", "write out/nginx, out/apache, out/caddy, out/traefik and out/well-known")
          .example("$0 render site.yaml --out deploy/ --check", "CI drift check: exit 1 and show a diff when deploy/ is stale")
          .example("$0 render site.yaml -b nginx --stdout", "print the nginx config"),
      async (a) => emit(await run.render({ site: a.site!, out: a.out, backends: a.backend, check: a.check, stdout: a.stdout })),
    )
    .command(
      "validate <site..>",
      "Check site files against the schema and the semantic rules; write nothing",
      (y) =>
        y
          .positional("site", { type: "string", array: true, describe: "site files (YAML), or - for standard input", demandOption: true })
          .option("format", { type: "string", choices: ["text", "json"], default: "text", describe: "text for people, json ({file,line,column,path,message}[]) for editors and CI" })
          .option("backend", { alias: "b", type: "string", array: true, choices: BACKENDS, describe: "only apply the rules of these backends" })
          .example("$0 validate site.yaml", "print every problem as FILE:LINE:COL path: message")
          .example("cat site.yaml | $0 validate - --format json", "machine-readable diagnostics"),
      (a) => emit(run.validate({ sites: a.site as string[], format: a.format as "text" | "json", backends: a.backend })),
    )
    .command("schema", "Print the JSON Schema of site files (for editors and yaml-language-server)", (y) => y.example("$0 schema > site.schema.json", "save the schema"), () => emit(run.schema()))
    .command(
      "compare <site>",
      "Show how each backend implements each feature of SITE",
      (y) =>
        y
          .positional("site", { type: "string", describe: "site file (YAML), or - for standard input", demandOption: true })
          .option("format", { type: "string", choices: ["table", "json", "markdown"], default: "table", describe: "output format" })
          .example("$0 compare site.yaml", "feature × backend table")
          .example("$0 compare site.yaml --format markdown >> docs/proxy.md", "the same table for docs"),
      (a) => emit(run.compareCmd({ site: a.site!, format: a.format as "table" | "json" | "markdown" })),
    )
    .command(
      "init [file]",
      "Write a commented starter site file",
      (y) =>
        y
          .positional("file", { type: "string", default: "site.yaml", describe: "file to create" })
          .option("server-name", { type: "string", default: "example.com", describe: "Matrix server name (the part after : in user IDs)" })
          .option("host", { type: "string", describe: "homeserver hostname (default: matrix.SERVER_NAME)" })
          .option("upstream", { type: "string", default: "http://127.0.0.1:6167", describe: "where the homeserver listens" })
          .option("force", { type: "boolean", default: false, describe: "overwrite an existing file" })
          .example("$0 init --server-name example.org", "create site.yaml for example.org"),
      (a) => emit(run.init({ file: a.file!, serverName: a["server-name"], host: a.host, upstream: a.upstream, force: a.force })),
    )
    .example("$0 init --server-name example.org", "write a starter site.yaml")
    .example("$0 render site.yaml --out out/", "render all four backends into out/")
    .example("$0 render site.yaml --out out/ --check", "CI: fail with a diff when out/ is stale")
    .completion("completion", "Print a bash/zsh completion script (source it from your shell profile)")
    .demandCommand(1, "Name a command: render, validate, schema, compare or init.")
    .strict()
    .recommendCommands()
    .version(VERSION)
    .help()
    .alias("h", "help")
    .epilog(EPILOG)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err, y) => {
      if (err) throw err;
      void y;
      process.stderr.write(`mxproxy: ${msg}\nRun "mxproxy --help" for usage.\n`);
      process.exit(2);
    });
}

async function main(): Promise<void> {
  try {
    // yargs drops a lone "-" positional; "<stdin>" survives and is what messages call it.
    await cli(hideBin(process.argv).map((a) => (a === "-" ? run.STDIN : a))).parseAsync();
  } catch (e) {
    fail(e);
  }
}

await main();
