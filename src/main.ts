// Entry point: `runt init` is the container's init stage (process/init.ts); everything else is
// the command line (cli/). Nothing else happens here, and nothing at import time: what a
// command needs is imported when it runs.

async function entry(): Promise<void> {
  // Node has already applied these to this process (nothing can stop that); they must not
  // reach anything runt starts. process/self.ts builds the init's environment from scratch.
  delete process.env.NODE_OPTIONS
  delete process.env.NODE_EXTRA_CA_CERTS
  // argv[1] is the script under node, and argv[0] as given to the single binary.
  const argv = process.argv.slice(2)
  if (argv[0] === 'init' && argv.length === 1 && process.env._RUNT_SYNC_FD !== undefined) {
    const { runInit } = await import('./process/init.js')
    runInit()
    return
  }
  const { main } = await import('./cli/index.js')
  process.exitCode = await main(argv)
}

const done = entry()
// The build's code-cache training (scripts/sea/train.cjs) runs more command lines through
// entry(), and loads (never runs) the init stage, which it cannot reach through a command.
const warmInit = () => import('./process/init.js')
;(globalThis as Record<symbol, unknown>)[Symbol.for('runt.main')] = { done, entry, warmInit }
