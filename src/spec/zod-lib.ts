// zod, behind a module of its own so that spec/schema.ts can require it on first use: the
// single binary's bundler makes it a chunk that only validation loads.

export { z } from 'zod'
