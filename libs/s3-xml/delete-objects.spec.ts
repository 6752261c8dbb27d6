import { MAX_DELETE_OBJECTS, parseDeleteObjects } from './delete-objects';

const body = (objects: string, attrs = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Delete${attrs}>${objects}<Quiet>true</Quiet></Delete>`;

describe('parseDeleteObjects', () => {
  it('reads keys and version ids, resolving entities and character references', () => {
    expect(
      parseDeleteObjects(
        body(
          '<Object><Key>a&amp;b &lt;c&gt;</Key></Object>\n  <Object><Key>&#x2e;x&#46;</Key><VersionId>v/1</VersionId></Object>',
        ),
      ),
    ).toEqual([{ key: 'a&b <c>' }, { key: '.x.', versionId: 'v/1' }]);
    expect(parseDeleteObjects('<Delete><Object><Key> spaced </Key><ETag>"e"</ETag></Object></Delete>')).toEqual([
      { key: ' spaced ' },
    ]);
  });

  it('refuses bodies another parser could read differently', () => {
    for (const bad of [
      body('<Object><Key><![CDATA[../b/x]]></Key></Object>'),
      body('<!-- c --><Object><Key>k</Key></Object>'),
      `<!DOCTYPE d [<!ENTITY e "../b/x">]>${body('<Object><Key>&e;</Key></Object>')}`,
      body('<Object><s3:Key>k</s3:Key></Object>'),
      body('<Object><Key>k</Key><Key>../b/x</Key></Object>'),
      body('<Object><Key>k</Key><Other>x</Other></Object>'),
      body('<Object><Key a="1">k</Key></Object>'),
      body('<Object>k<Key>k</Key></Object>'),
      body('<Object><VersionId>v</VersionId></Object>'),
      body('<Object><Key>k<Key>j</Key></Key></Object>'),
      body('<Object><Key>&unknown;</Key></Object>'),
      body('<Object><Key>&#xD800;</Key></Object>'),
      body(''),
      '<Delete><Object><Key>k</Key></Object>',
      '<Delete><Object><Key>k</Key></Object></Delete><Delete/>',
      '<Other><Object><Key>k</Key></Object></Other>',
      '<?xml-stylesheet x?><Delete><Object><Key>k</Key></Object></Delete>',
      '',
    ]) {
      expect(parseDeleteObjects(bad)).toBeUndefined();
    }
  });

  it('refuses more objects than S3 allows in one request', () => {
    const one = '<Object><Key>k</Key></Object>';
    expect(parseDeleteObjects(body(one.repeat(MAX_DELETE_OBJECTS)))).toHaveLength(MAX_DELETE_OBJECTS);
    expect(parseDeleteObjects(body(one.repeat(MAX_DELETE_OBJECTS + 1)))).toBeUndefined();
  });
});
