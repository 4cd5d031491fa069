import { describe, expect, it } from 'vitest';
import { addContext, listContexts, removeContext, useContext } from '../../src/config/contexts.js';
import { ConflictError, NotFoundError, UsageError } from '../../src/base/errors.js';

describe('contexts', () => {
  it('adds, uses, lists and removes', () => {
    let file = addContext({ contexts: {} }, 'lab', { host: 'tcp://h:2376' });
    file = useContext(file, 'lab');
    expect(listContexts(file).map((v) => [v.name, v.current])).toEqual([
      ['default', false],
      ['lab', true],
    ]);
    file = removeContext(file, 'lab');
    expect(file.currentContext).toBeUndefined();
    expect(listContexts(file).map((v) => v.name)).toEqual(['default']);
  });

  it('refuses duplicates unless forced, unknown names and bad names', () => {
    const file = addContext({ contexts: {} }, 'lab', {});
    expect(() => addContext(file, 'lab', {})).toThrow(ConflictError);
    expect(addContext(file, 'lab', { host: 'unix:///x' }, { force: true }).contexts.lab?.host).toBe('unix:///x');
    expect(() => useContext(file, 'nope')).toThrow(NotFoundError);
    expect(() => removeContext(file, 'nope')).toThrow(NotFoundError);
    for (const bad of ['', 'Has Space', 'UPPER', '-dash', 'x'.repeat(64), "o'reilly"]) expect(() => addContext(file, bad, {})).toThrow(UsageError);
  });
});
