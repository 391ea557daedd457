// `outpost completion bash|zsh|fish`: completion scripts generated from the command tree itself,
// so a new command or flag completes without anyone editing a script.
import type { Command } from "commander";
import { CliError } from "../errors";

interface Node {
  path: string;
  subcommands: { name: string; description: string }[];
  flags: { name: string; description: string }[];
}

function walk(command: Command, prefix: string[], globalFlags: Node["flags"], out: Node[]): void {
  const flags = command.options
    .filter((o) => o.long)
    .map((o) => ({ name: o.long as string, description: o.description }));
  out.push({
    path: prefix.join(" "),
    subcommands: command.commands.map((c) => ({ name: c.name(), description: c.description() })),
    flags: [...flags, ...(prefix.length ? globalFlags : [])],
  });
  for (const sub of command.commands) walk(sub, [...prefix, sub.name()], globalFlags, out);
}

function tree(program: Command): Node[] {
  const globalFlags = program.options
    .filter((o) => o.long)
    .map((o) => ({ name: o.long as string, description: o.description }));
  const nodes: Node[] = [];
  walk(program, [], globalFlags, nodes);
  return nodes;
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** A bash completion script (also used by zsh through bashcompinit). */
export function bashScript(program: Command): string {
  const nodes = tree(program);
  const paths = nodes.filter((n) => n.path).map((n) => `"${n.path}"`);
  const cases = nodes
    .map(
      (n) =>
        `    "${n.path}") words=${quote([...n.subcommands.map((s) => s.name), ...n.flags.map((f) => f.name)].join(" "))} ;;`,
    )
    .join("\n");
  return `# outpost completion for bash: eval "$(outpost completion bash)" or save it under
# /etc/bash_completion.d/outpost
_outpost() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" words="" w i next
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    next="\${path:+$path }$w"
    case "$next" in
      ${paths.join("|")}) path="$next" ;;
    esac
  done
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _outpost outpost
`;
}

/** A zsh script: zsh's bash-compatible completion runs the bash one. */
export function zshScript(program: Command): string {
  return `# outpost completion for zsh: eval "$(outpost completion zsh)" in ~/.zshrc
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(program).split("\n").slice(2).join("\n")}`;
}

/** A fish completion script. */
export function fishScript(program: Command): string {
  const nodes = tree(program);
  const lines = [
    "# outpost completion for fish: outpost completion fish > ~/.config/fish/completions/outpost.fish",
    `set -g __outpost_paths ${nodes
      .filter((n) => n.path)
      .map((n) => quote(n.path))
      .join(" ")}`,
    "function __outpost_path",
    "  set -l path ''",
    "  for w in (commandline -opc)[2..-1]",
    '    set -l next (string trim -- "$path $w")',
    "    contains -- $next $__outpost_paths; and set path $next",
    "  end",
    "  echo $path",
    "end",
    "complete -c outpost -f",
  ];
  for (const node of nodes) {
    const condition = `-n ${quote(`test (__outpost_path) = ${quote(node.path)}`)}`;
    for (const sub of node.subcommands) {
      lines.push(`complete -c outpost ${condition} -a ${quote(sub.name)} -d ${quote(sub.description)}`);
    }
    for (const flag of node.flags) {
      lines.push(
        `complete -c outpost ${condition} -l ${flag.name.replace(/^--/, "")} -d ${quote(flag.description)}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Registers `outpost completion`. */
export function registerCompletion(program: Command): void {
  program
    .command("completion")
    .description("print a shell completion script (bash, zsh or fish)")
    .argument("<shell>", "bash, zsh or fish")
    .action((shell: string) => {
      const scripts: Record<string, (p: Command) => string> = {
        bash: bashScript,
        zsh: zshScript,
        fish: fishScript,
      };
      const make = scripts[shell];
      if (!make) throw new CliError(`no completion for '${shell}' (bash, zsh or fish)`);
      process.stdout.write(make(program));
    });
}
