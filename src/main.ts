// Entry point: `runt init` is the container's init stage (process/init.ts); everything else is
// the command line (cli/). Nothing else happens here.

async function entry(): Promise<void> {
  // argv[1] is the script under node and the executable itself in the single binary.
  const argv = process.argv.slice(2)
  if (argv[0] === 'init' && argv.length === 1 && process.env._RUNT_SYNC_FD !== undefined) {
    const { runInit } = await import('./process/init.js')
    runInit()
    return
  }
  const { main } = await import('./cli/index.js')
  process.exitCode = await main(argv)
}

void entry()
