import { createSchool, PASSWORD, type TestSchool } from './fixtures.js';
import { startTestServer, type TestServer } from './http.js';

type Member = 'admin' | 'teacher' | 'student';

/** A school (createSchool) on a test server, with an access token of each member logged in. */
export interface SchoolServer<M extends Member> extends TestSchool {
  srv: TestServer;
  tokens: Record<M, string>;
}

/**
 * Mocha hooks: before the suite, a test server holding a school whose members `logIn` are
 * logged in through the API, in that order; after it, the server stopped. The function answers
 * the school once the hook has run.
 */
export function useSchoolServer<M extends Member>(logIn: readonly M[]): () => SchoolServer<M> {
  let srv: TestServer | null = null;
  let made: SchoolServer<M> | null = null;
  before(async () => {
    srv = await startTestServer();
    const school = await createSchool(srv.store);
    const tokens = {} as Record<M, string>;
    for (const member of logIn) tokens[member] = (await srv.login(school[member].email, PASSWORD)).accessToken;
    made = { srv, ...school, tokens };
  });
  after(() => srv?.cleanup());
  return () => {
    if (!made) throw new Error('the school is made in a before hook');
    return made;
  };
}
