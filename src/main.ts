// Entry point: `runt init` is the container's init stage (process/init.ts); everything else is
// the command line (cli/). Nothing else happens here, and nothing at import time: what a
// command needs is imported when it runs.

async function entry(): Promise<void> {
  // The runtime has already read what it honours of these (nothing can stop that); they must
  // not reach anything runt starts. process/self.ts builds the init's environment from
  // scratch; hooks get the environment their spec gives.
  for (const k of Object.keys(process.env))
    if (k === 'NODE_OPTIONS' || k === 'NODE_EXTRA_CA_CERTS' || k.startsWith('BUN_')) delete process.env[k]
  // argv[1] is the script from a checkout, and the embedded entry in the single binary.
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
