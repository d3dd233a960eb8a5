/**
 * The meshcheck CLI: parse → call → render, one file per command under commands/. Errors are mapped to exit
 * codes here and nowhere else; a person sees what failed and the fix, not a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { type Context, processContext } from '../context.ts';
import { MeshcheckError } from '../errors.ts';
import { meshcheckVersion } from '../version.ts';
import { auditCommand } from './commands/audit.ts';
import { clusterCommand } from './commands/cluster.ts';
import { doctorCommand } from './commands/doctor.ts';
import { latencyCommand } from './commands/latency.ts';
import { meshCommand } from './commands/mesh.ts';
import { gateCommand, mergeCommand, reportCommand } from './commands/reports.ts';
import { reproCommand } from './commands/repro.ts';
import { runCommand } from './commands/run.ts';
import { smokeCommand } from './commands/smoke.ts';
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.ts';

export function buildProgram(ctx: Context): Command {
  const program = new Command('meshcheck')
    .description('Prove a service mesh behaves on arm64 (native or QEMU-emulated) exactly as on amd64.')
    .version(meshcheckVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) })
    .exitOverride()
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n\nDocumentation: README.md`);
  for (const command of [doctorCommand(ctx), auditCommand(ctx), smokeCommand(ctx), latencyCommand(ctx), clusterCommand(ctx), meshCommand(ctx), runCommand(ctx), mergeCommand(ctx), gateCommand(ctx), reportCommand(ctx), reproCommand(ctx)]) {
    // Subcommands throw instead of exiting, and share the output streams, like the root.
    command.exitOverride().configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) });
    command.addHelpText('after', `\n${EXIT_CODES_HELP}`);
    program.addCommand(command);
  }
  return program;
}

/** Run the CLI and return the exit code; never throws. */
export async function runCli(argv: string[], ctx: Context): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too; every other parse error is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof MeshcheckError) {
      ctx.io.err(`meshcheck: ${err.message}\n${err.fix ? `fix: ${err.fix}\n` : ''}`);
      return exitCodeFor(err.category);
    }
    const e = err as Error;
    ctx.io.err(`meshcheck: internal error: ${e?.message ?? String(err)}\n`);
    if (ctx.env.MESHCHECK_DEBUG) ctx.io.err(`${e?.stack ?? ''}\n`);
    else ctx.io.err('(set MESHCHECK_DEBUG=1 for the stack trace, and please report it)\n');
    return EXIT.infrastructure;
  }
}

export async function main(): Promise<void> {
  const controller = new AbortController();
  // `on`, not `once`: signal-exit (used by execa) re-raises a signal when only its own listeners remain, which
  // would kill the process before the run has removed its containers. A second Ctrl-C still ends it at once.
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\nmeshcheck: ${signal}: stopping and removing what this run started (again to force)\n`);
      controller.abort(new Error(`interrupted by ${signal}`));
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    process.exitCode = await runCli(process.argv.slice(2), processContext(controller.signal));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
