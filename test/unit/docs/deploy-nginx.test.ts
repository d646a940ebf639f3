import { expect } from 'chai';
import { readFileSync } from 'node:fs';

// test/integration/nginx-proxy.test.ts and nginx-path-prefix.test.ts run the files of deploy/nginx;
// the school's IT person copies the blocks of docs/deploy.md. They must be the same text.
const ROOT = new URL('../../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, ROOT), 'utf8');

/** The ```nginx blocks of `heading`'s section (up to the next heading of its level or above), unindented. */
function nginxBlocks(doc: string, heading: string): string[] {
  const start = doc.indexOf(`\n${heading}\n`);
  expect(start, heading).to.be.greaterThan(-1);
  const level = /^#+/.exec(heading)![0];
  const next = doc.slice(start + heading.length + 2).search(new RegExp(`^#{1,${level.length}} `, 'm'));
  const section = doc.slice(start, next === -1 ? undefined : start + heading.length + 2 + next);
  return [...section.matchAll(/^( *)```nginx\n([^]*?)^\1```$/gm)].map(([, indent, body]) =>
    body!
      .split('\n')
      .map((line) => (line.startsWith(indent!) ? line.slice(indent!.length) : line))
      .join('\n'),
  );
}

describe('deploy/nginx against docs/deploy.md', () => {
  it('shows attendance.conf verbatim in "Several nodes without Docker"', () => {
    const blocks = nginxBlocks(read('docs/deploy.md'), '### Several nodes without Docker, step by step');
    expect(blocks).to.have.length(1);
    expect(blocks[0]).to.equal(read('deploy/nginx/attendance.conf'));
  });

  it('shows path-prefix.conf verbatim in "Under a path of an existing site"', () => {
    const blocks = nginxBlocks(read('docs/deploy.md'), '## Under a path of an existing site');
    expect(blocks).to.have.length(1);
    expect(blocks[0]).to.equal(read('deploy/nginx/path-prefix.conf'));
  });
});
