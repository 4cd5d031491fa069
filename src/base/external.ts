/**
 * import() of a package kept outside the bundle. The launcher (bin/faasctl.cjs) compiles the
 * bundle with V8's code cache, and on Node 20 code compiled that way cannot call import()
 * itself, so the launcher lends its own. Without the launcher (tests), a plain import().
 */
type Importer = (specifier: string) => Promise<unknown>;

export function importExternal<T>(specifier: string): Promise<T> {
  const lent = (globalThis as { __faasctlImport?: Importer }).__faasctlImport;
  return (lent ? lent(specifier) : import(specifier)) as Promise<T>;
}
