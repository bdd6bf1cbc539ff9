// The state store under --root, for the command line: cli/ reaches state/ through ops/ only.

import { Store } from '../state/store.js'

export function openStore(root: string): Store {
  return new Store(root)
}
