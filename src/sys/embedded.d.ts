// Modules the single-binary build provides (scripts/build.mjs): koffi's native addon, embedded
// in the executable; the default export is its path inside the executable's file system.
declare module 'runt:koffi-addon' {
  const file: string
  export default file
}
