// What a service's operator command (src/cli.ts) reads besides its configuration: options
// on the command line and text piped to it (a password, a message body), never argv for secrets.

/** The value after `--<name>` on the command line, if given. */
export function cliOption(name: string, argv: readonly string[] = process.argv): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? argv[i + 1] : undefined;
}

/** Everything piped to standard input, as UTF-8 text (the caller decides what to trim). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
