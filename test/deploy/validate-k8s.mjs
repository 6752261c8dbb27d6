// Reads a JSON array of Kubernetes objects on stdin; prints, for each one, the problems the
// API's own schemas find: [{kind, name, problems}]. Unknown kinds are a problem too.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const docs = JSON.parse(readFileSync(0, 'utf8'));

function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

const out = [];
for (const doc of docs) {
  const problems = [];
  try {
    const mod = await import(modulePath(doc.apiVersion, doc.kind));
    const Model = mod[doc.kind];
    new Model(doc).validate();
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      problems.push(`no schema for ${doc.apiVersion} ${doc.kind}`);
    } else if (Array.isArray(err?.errors)) {
      for (const e of err.errors) problems.push(`${e.instancePath || '/'} ${e.message}`);
    } else {
      problems.push(String(err?.message ?? err));
    }
  }
  out.push({ kind: doc.kind, name: doc.metadata?.name, problems });
}
process.stdout.write(JSON.stringify(out));
