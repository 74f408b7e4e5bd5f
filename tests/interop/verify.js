// verify.js: an independent verifier for tests/interop.sh, using the npm package
// xml-crypto. `node verify.js CA.pem STATEMENT.xml` prints OK (exit 0) or FAILED: why.
// xml-crypto is never allowed to trust the certificate in KeyInfo by itself: the
// certificate must be issued by a CA of CA.pem and valid at 12:00 UTC of IssueDate
// before its key is handed to xml-crypto as `publicCert`.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { SignedXml } = require('xml-crypto');
const { DOMParser } = require('@xmldom/xmldom');

const NS = 'urn:jos-settle:statement:1';
const DS = 'http://www.w3.org/2000/09/xmldsig#';

function fail(why) {
  console.log('FAILED: ' + why);
  process.exit(1);
}

const [caPath, file] = process.argv.slice(2);
const xml = fs.readFileSync(file, 'utf8');
if (/<!DOCTYPE|<!ENTITY/.test(xml)) fail('DOCTYPE not allowed');
const doc = new DOMParser().parseFromString(xml, 'text/xml');
const root = doc.documentElement;
if (root.namespaceURI !== NS || root.localName !== 'Statement') fail('root is not a Statement');
const sigs = doc.getElementsByTagNameNS(DS, 'Signature');
if (sigs.length !== 1 || sigs[0].parentNode !== root) fail('not exactly one Signature under Statement');

const certNode = sigs[0].getElementsByTagNameNS(DS, 'X509Certificate')[0];
if (!certNode) fail('no X509Certificate');
const b64 = certNode.textContent.replace(/\s+/g, '');
const pem = '-----BEGIN CERTIFICATE-----\n' + b64.match(/.{1,64}/g).join('\n') + '\n-----END CERTIFICATE-----\n';
const cert = new crypto.X509Certificate(pem);
const cas = (fs.readFileSync(caPath, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) || [])
  .map((p) => new crypto.X509Certificate(p));
const at = new Date(doc.getElementsByTagNameNS(NS, 'IssueDate')[0].textContent + 'T12:00:00Z');
const valid = (c) => at >= new Date(c.validFrom) && at <= new Date(c.validTo);
const ca = cas.find((c) => cert.checkIssued(c) && cert.verify(c.publicKey) && valid(c));
if (!ca) fail('certificate does not chain to the CA');
if (!valid(cert)) fail('certificate not valid at IssueDate');

const sig = new SignedXml({ publicCert: pem });
sig.loadSignature(sigs[0]);
let ok = false;
try {
  ok = sig.checkSignature(xml);
} catch (e) {
  fail(e.message);
}
if (!ok) fail('signature does not verify');
const refs = sig.getReferences();
if (refs.length !== 1 || refs[0].uri !== '') fail('the signature must have one Reference with URI=""');
console.log('OK');
