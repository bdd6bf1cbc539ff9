// Where koffi comes from. From a checkout, node_modules; in the single binary, the build
// replaces this module (see scripts/build.mjs) with one that loads the embedded addon.

import koffi from 'koffi'

export default koffi
