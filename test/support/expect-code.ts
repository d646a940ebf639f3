import { expect } from 'chai';
import { AppError } from '../../src/shared/app-error.js';

/** Awaits `promise`, expecting it to reject with an AppError of `code`; resolves with that error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).code).to.equal(code);
    return err as AppError;
  }
  return expect.fail(`expected ${code}, got success`);
}
