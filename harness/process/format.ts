/**
 * A command as a person would type it, for messages and plans only (nothing is ever run through a shell).
 * Its own module so that printing a plan does not load execa: the CLI's start-up imports it.
 */
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(quote).join(' ');
}

