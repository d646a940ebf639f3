import { expect } from 'chai';
import { loggedUrl } from '../../../src/http/request-log.js';

describe('request log URL', () => {
  it('replaces the values of credential parameters and keeps the rest', () => {
    expect(loggedUrl('/api/v1/unsubscribe?token=g1.abc.def')).to.equal('/api/v1/unsubscribe?token=%5Bredacted%5D');
    // The pages' buttons post back to the link with its token in the query too.
    expect(loggedUrl('/api/v1/resubscribe?token=u1.abc.def')).to.equal('/api/v1/resubscribe?token=%5Bredacted%5D');
    expect(loggedUrl('/x?page=2&Token=a&token=b&q=z')).to.equal('/x?page=2&Token=%5Bredacted%5D&token=%5Bredacted%5D&q=z');
  });

  it('leaves a URL without credentials as it came', () => {
    expect(loggedUrl('/api/v1/sessions?limit=20&offset=0')).to.equal('/api/v1/sessions?limit=20&offset=0');
    expect(loggedUrl('/healthz')).to.equal('/healthz');
  });
});
