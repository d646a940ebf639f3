import { expect } from 'chai';
import { Schema } from 'mongoose';
import { buildIndexes, type Models } from '../../../src/store/mongo/models.js';

// buildIndexes on a server that answers NotImplemented to some index options (FerretDB 1.x: TTL
// and partial indexes), offline: a fake collection records what it was asked to build.

type Built = { keys: Record<string, unknown>; options: Record<string, unknown> };

function modelsOn(schema: Schema, refuses: readonly string[]): { models: Models; built: Built[] } {
  const built: Built[] = [];
  const collection = {
    collectionName: 'things',
    createIndex: (keys: Record<string, unknown>, options: Record<string, unknown>) => {
      if (refuses.some((o) => options[o] !== undefined)) {
        return Promise.reject(Object.assign(new Error('Index option is not implemented yet'), { code: 238 }));
      }
      built.push({ keys, options: { ...options } });
      return Promise.resolve(String(options['name']));
    },
  };
  return { models: { things: { schema, collection } } as unknown as Models, built };
}

function aSchema(): Schema {
  const schema = new Schema({ a: String, b: Date, state: String }, { autoIndex: false });
  schema.index({ a: 1 }, { name: 'plain', unique: true });
  schema.index({ state: 1, b: 1 }, { name: 'partial', partialFilterExpression: { state: 'queued' } });
  schema.index({ b: 1 }, { name: 'ttl', expireAfterSeconds: 60 });
  return schema;
}

describe('mongo buildIndexes', () => {
  it('builds every index as declared on a server that takes every option', async () => {
    const { models, built } = modelsOn(aSchema(), []);
    expect(await buildIndexes(models)).to.deep.equal([]);
    expect(built.map((b) => [b.options['name'], b.options['partialFilterExpression'], b.options['expireAfterSeconds']])).to.deep.equal([
      ['plain', undefined, undefined],
      ['partial', { state: 'queued' }, undefined],
      ['ttl', undefined, 60],
    ]);
  });

  it('builds a partial or TTL index without that option where the server answers NotImplemented, and names it', async () => {
    const { models, built } = modelsOn(aSchema(), ['partialFilterExpression', 'expireAfterSeconds']);
    expect(await buildIndexes(models)).to.deep.equal(['things.partial', 'things.ttl']);
    expect(
      built.map((b) => [b.options['name'], b.keys, b.options['partialFilterExpression'], b.options['expireAfterSeconds']]),
    ).to.deep.equal([
      ['plain', { a: 1 }, undefined, undefined],
      ['partial', { state: 1, b: 1 }, undefined, undefined],
      ['ttl', { b: 1 }, undefined, undefined],
    ]);
    expect(built[0]!.options['unique']).to.equal(true);
  });

  it('does not hide a NotImplemented answer to an index that declares neither option', async () => {
    const { models } = modelsOn(aSchema(), ['unique']);
    const err = await buildIndexes(models).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.have.property('code', 238);
  });
});
