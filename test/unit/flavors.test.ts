import { describe, expect, it } from 'vitest';
import { describeEntry, FLAVORS, parseFlavor } from '../../src/core/functions/flavors.js';

describe('handler flavours', () => {
  it('parse --flavor, refusing an unknown one with the choices', () => {
    expect(parseFlavor(undefined)).toBeUndefined();
    for (const f of Object.keys(FLAVORS)) expect(parseFlavor(f)).toBe(f);
    expect(() => parseFlavor('azure')).toThrow(expect.objectContaining({ exitCode: 2, code: 'bad_flavor', message: 'unknown flavor "azure"', hint: 'choose one of main, lambda, openfaas, madhat' }));
    expect(() => parseFlavor('toString')).toThrow(/unknown flavor/);
  });

  it('describe an entry with the call its flavour makes', () => {
    expect(describeEntry('main', 'main')).toBe('main(args) (main)');
    expect(describeEntry('lambda_handler', 'lambda')).toBe('lambda_handler(event, context) (lambda)');
    expect(describeEntry('handle', 'openfaas')).toBe('handle(req) (openfaas)');
    expect(describeEntry('madhat_func', 'madhat')).toBe('madhat_func(input_data, output_data) (madhat)');
  });
});
