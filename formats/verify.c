/*
 * verify.c: verification of a received statement (SPEC "verify"), hardened against
 * hostile documents. In order, each stage refusing with a reason:
 *   1. size limit (FMT_STMT_MAX_BYTES) and no DOCTYPE at all, checked on the bytes and
 *      again by the parser (a SAX hook stops at any internal subset or entity
 *      declaration): no DTD, no entity can be declared, so no expansion ("billion
 *      laughs"), no XXE and no xmlsec stack overflow on nested entities (trap 5);
 *   2. safe parse: XML_PARSE_NONET, no DTD loading, no entity substitution, no
 *      XInclude, libxml2's default depth limit (and ours in the shape walk);
 *   3. shape, before any crypto (trap 3): root Statement in our namespace; exactly one
 *      ds:Signature, the last child of the root; SignedInfo with exclusive C14N and
 *      RSA-SHA256 or ECDSA-SHA256; exactly one Reference, URI="", with exactly the
 *      enveloped-signature and exclusive C14N transforms and SHA-256; KeyInfo holding
 *      only X509Data/X509Certificate; no comment, PI, CDATA, entity reference,
 *      ds:Object or ds:Manifest anywhere; no duplicate Id;
 *   4. schema validity (the embedded statement.xsd, compiled once per verifier);
 *   5. the certificate from KeyInfo: RSA >= 2048 or P-256, chaining to --trust at
 *      12:00 UTC of the statement's IssueDate, or at the certificate's notBefore when
 *      later (never the clock: reproducible);
 *   6. the signature, with the public key of the certificate checked in 5. By default
 *      (fmt_verify_fast) with xmlsec's SHA-256 and RSA/ECDSA transforms and its base64
 *      reading of DigestValue and SignatureValue, fed the exclusive C14N of exactly the
 *      node sets xmlSecDSigCtxVerify builds for the one shape stage 3 admits (written
 *      directly for our own layout, else libxml2's C14N with equivalent callbacks): the
 *      same verdicts, several times faster on big statements. With
 *      JOS_VERIFY_XMLSEC=1, by xmlSecDSigCtxVerify itself (fmt_verify_xmlsec, so xmlsec
 *      takes no key from KeyInfo at all), restricted anyway to: key data X509 only
 *      (trap 1), empty or same-document URIs (trap 2), the allowed algorithms only
 *      (trap 8), a keys manager holding trusted certificates and no keys (trap 7); the
 *      verdict is read from the context's and the reference's status (trap 4). The
 *      tests run both ways and require the same verdicts and reasons, and also run
 *      xmlsec's way letting it read KeyInfo itself, to prove each restriction;
 *   7. arithmetic on the values read from the verified tree (which, with URI="" and
 *      no comments, is what was signed): lines sum to Net, GrossShares to Gross.
 */
#include "formats/formats.h"
#include "formats/text_int.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/openssl/evp.h>

#include "formats/sign_int.h"

#define NS_STMT "urn:jos-settle:statement:1"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define ALG_SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"

#define MAX_DEPTH 24      /* a statement is 5 levels deep, its signature 5 */
#define MAX_CERTS 8       /* in KeyInfo/X509Data */
#define MAX_IDS 64

struct fmt_verifier {
	/* xmlsec's keys manager, made on first use by fmt_verify_xmlsec only: its default
	 * initialisation loads the system's CA bundle (X509_STORE_set_default_paths), some
	 * 60 ms, and the fast path never needs it. Trusted certificates only, never a key
	 * (trap 7). */
	xmlSecKeysMngrPtr mngr;
	X509_STORE *store;        /* the certificates of --trust, for our own chain check */
	STACK_OF(X509) *anchors;  /* the same, to load into mngr when it is made */
	fmt_schema *schema;
	bool use_xmlsec;          /* JOS_VERIFY_XMLSEC=1: stage 6 by xmlSecDSigCtxVerify */
	/* The last signer that passed the certificate checks: its KeyInfo certificates
	 * (as text), the moment they were checked at, and the public key made from them.
	 * A region signs all its statements with one certificate, so this spares the
	 * decoding and chain building for all but the first. */
	char *cache_certs;
	time_t cache_at;
	bool cache_ec;
	xmlSecKeyPtr cache_key;
};

time_t fmt_verify_time(jos_day issue_date)
{
	return (time_t)issue_date * 86400 + 12 * 3600;
}

/* ---- the trust file ------------------------------------------------------------------ */

int fmt_verifier_open(fmt_verifier **out, const char *trust_path, jos_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int rc, n = 0;
	*out = NULL;
	fmt_verifier *v = calloc(1, sizeof *v);
	if (!v)
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
	const char *env = getenv("JOS_VERIFY_XMLSEC");
	v->use_xmlsec = env && strcmp(env, "1") == 0;
	if ((rc = fmt_schema_open(&v->schema, err)) != JOS_OK)
		goto done;
	if ((rc = fmt_read_file(&buf, &len, trust_path, 4 << 20, err)) != JOS_OK)
		goto done;
	v->store = X509_STORE_new();
	v->anchors = sk_X509_new_null();
	if (!v->store || !v->anchors) {
		rc = jos_err_set(err, JOS_ECRYPTO, trust_path, 0, "cannot set up the certificate store");
		goto done;
	}
	/* Every PEM block is an anchor (xmlsec's own loader would read only the first:
	 * trap 9). */
	ERR_clear_error();
	bio = BIO_new_mem_buf(buf, (int)len);
	X509 *c;
	while (bio && (c = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(v->store, c) != 1 || !sk_X509_push(v->anchors, c)) {
			X509_free(c);
			rc = jos_err_set(err, JOS_ECRYPTO, trust_path, 0,
					 "certificate %d cannot be used as a trust anchor", n + 1);
			goto done;
		}
		n++;
	}
	ERR_clear_error();
	if (n == 0) {
		rc = jos_err_set(err, JOS_ECRYPTO, trust_path, 0, "no PEM certificate in the trust file");
		goto done;
	}
	*out = v;
	v = NULL;
	rc = JOS_OK;
done:
	BIO_free(bio);
	free(buf);
	fmt_verifier_free(v);
	return rc;
}

/* xmlsec's keys manager holding the anchors as trusted certificates (each handed over
 * as DER: xmlSecCryptoAppKeysMngrCertLoad reads only a file's first PEM block). */
static int verifier_mngr(fmt_verifier *v)
{
	if (v->mngr)
		return JOS_OK;
	xmlSecKeysMngrPtr m = xmlSecKeysMngrCreate();
	if (!m || xmlSecCryptoAppDefaultKeysMngrInit(m) < 0) {
		if (m)
			xmlSecKeysMngrDestroy(m);
		return JOS_ECRYPTO;
	}
	for (int i = 0; i < sk_X509_num(v->anchors); i++) {
		unsigned char *der = NULL;
		int dlen = i2d_X509(sk_X509_value(v->anchors, i), &der);
		int ok = dlen > 0 && xmlSecCryptoAppKeysMngrCertLoadMemory(m, der, (xmlSecSize)dlen,
									  xmlSecKeyDataFormatDer,
									  xmlSecKeyDataTypeTrusted) >= 0;
		OPENSSL_free(der);
		if (!ok) {
			xmlSecKeysMngrDestroy(m);
			return JOS_ECRYPTO;
		}
	}
	v->mngr = m;
	return JOS_OK;
}

void fmt_verifier_set_xmlsec(fmt_verifier *v, bool on)
{
	v->use_xmlsec = on;
}

void fmt_verifier_free(fmt_verifier *v)
{
	if (!v)
		return;
	if (v->mngr)
		xmlSecKeysMngrDestroy(v->mngr);
	X509_STORE_free(v->store);
	sk_X509_pop_free(v->anchors, X509_free);
	fmt_schema_free(v->schema);
	if (v->cache_key)
		xmlSecKeyDestroy(v->cache_key);
	free(v->cache_certs);
	free(v);
}

/* ---- stage 1 and 2: bytes and parser ------------------------------------------------ */

/* "<!DOCTYPE" or "<!ENTITY" anywhere in the bytes (found from the rare '!'). */
static bool has_doctype_bytes(const char *buf, size_t len)
{
	const char *end = buf + len, *p = buf, *q;
	while ((q = memchr(p, '!', (size_t)(end - p))) != NULL) {
		if (q > buf && q[-1] == '<' &&
		    ((end - q > 7 && memcmp(q + 1, "DOCTYPE", 7) == 0) ||
		     (end - q > 6 && memcmp(q + 1, "ENTITY", 6) == 0)))
			return true;
		p = q + 1;
	}
	return false;
}

typedef struct {
	bool dtd;
} parse_guard;

static void stop_dtd(xmlParserCtxtPtr ctxt)
{
	parse_guard *g = ctxt->_private;
	g->dtd = true;
	xmlStopParser(ctxt);
}

static void sax_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
	(void)name;
	(void)eid;
	(void)sid;
	stop_dtd(ctx);
}

static void sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pid,
			    const xmlChar *sid, xmlChar *content)
{
	(void)name;
	(void)type;
	(void)pid;
	(void)sid;
	(void)content;
	stop_dtd(ctx);
}

static xmlEntityPtr sax_get_entity(void *ctx, const xmlChar *name)
{
	(void)name;
	stop_dtd(ctx);
	return NULL;
}

static int safe_parse(xmlDocPtr *out, const char *buf, size_t len, char *why, size_t whylen)
{
	parse_guard g = { false };
	*out = NULL;
	if (len > FMT_STMT_MAX_BYTES) {
		snprintf(why, whylen, "the file is larger than %zu MB: refused unread",
			 FMT_STMT_MAX_BYTES >> 20);
		return JOS_EVERIFY;
	}
	if (has_doctype_bytes(buf, len)) {
		snprintf(why, whylen, "a DOCTYPE (DTD or entity declaration) is not allowed in a statement");
		return JOS_EVERIFY;
	}
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		snprintf(why, whylen, "out of memory");
		return JOS_ENOMEM;
	}
	ctxt->_private = &g;
	ctxt->sax->internalSubset = sax_internal_subset;
	ctxt->sax->externalSubset = sax_internal_subset;
	ctxt->sax->entityDecl = sax_entity_decl;
	ctxt->sax->getEntity = sax_get_entity;
	/* No XML_PARSE_NOENT (entities stay unexpanded), no DTDLOAD/DTDATTR/DTDVALID, no
	 * XINCLUDE, no HUGE (libxml2 keeps its depth and size limits). */
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, "statement.xml", NULL,
					  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
	if (g.dtd) {
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		snprintf(why, whylen, "a DOCTYPE (DTD or entity declaration) is not allowed in a statement");
		return JOS_EVERIFY;
	}
	if (!doc || !ctxt->wellFormed) {
		xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
		char msg[200] = "";
		if (e && e->message) {
			snprintf(msg, sizeof msg, "%s", e->message);
			size_t n = strlen(msg);
			while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
				msg[--n] = '\0';
		}
		snprintf(why, whylen, "not well-formed XML (line %d: %s)", e ? e->line : 0,
			 msg[0] ? msg : "parse error");
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return JOS_EVERIFY;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		snprintf(why, whylen, "a DOCTYPE (DTD or entity declaration) is not allowed in a statement");
		return JOS_EVERIFY;
	}
	*out = doc;
	return JOS_OK;
}

/* ---- stage 3: shape ------------------------------------------------------------------ */

static bool in_ns(const xmlNode *n, const char *ns)
{
	return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

static bool is_ds(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && in_ns(n, NS_DS) &&
	       strcmp((const char *)n->name, name) == 0;
}

static bool blank(const xmlChar *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

typedef struct {
	char *why;
	size_t whylen;
	const xmlChar *ids[MAX_IDS];
	int nids;
	int nsig;
} shape;

static int refuse(shape *s, const char *fmt, const char *arg)
{
	snprintf(s->why, s->whylen, fmt, arg);
	return JOS_EVERIFY;
}

static int walk(shape *s, xmlNodePtr n, int depth)
{
	if (depth > MAX_DEPTH)
		return refuse(s, "elements nested deeper than a statement can be%s", "");
	for (; n; n = n->next) {
		switch (n->type) {
		case XML_TEXT_NODE:
			continue;
		case XML_ELEMENT_NODE:
			break;
		case XML_COMMENT_NODE:
			return refuse(s, "a comment is not allowed in a statement (the signature ignores "
					 "comments, so one inside a value could change what is read)%s", "");
		case XML_PI_NODE:
			return refuse(s, "a processing instruction is not allowed in a statement%s", "");
		case XML_CDATA_SECTION_NODE:
			return refuse(s, "a CDATA section is not allowed in a statement%s", "");
		case XML_ENTITY_REF_NODE:
		case XML_ENTITY_NODE:
			return refuse(s, "an entity reference is not allowed in a statement%s", "");
		case XML_XINCLUDE_START:
		case XML_XINCLUDE_END:
			return refuse(s, "XInclude is not allowed in a statement%s", "");
		default:
			return refuse(s, "unexpected XML node type in a statement%s", "");
		}
		if (!in_ns(n, NS_STMT) && !in_ns(n, NS_DS))
			return refuse(s, "element %s is in a foreign namespace", (const char *)n->name);
		if (is_ds(n, "Object") || is_ds(n, "Manifest"))
			return refuse(s, "ds:%s is not allowed in a statement", (const char *)n->name);
		if (is_ds(n, "Signature"))
			s->nsig++;
		for (xmlAttrPtr a = n->properties; a; a = a->next) {
			bool xml_id = a->ns && a->ns->href &&
				      strcmp((const char *)a->ns->href, "http://www.w3.org/XML/1998/namespace") == 0 &&
				      strcmp((const char *)a->name, "id") == 0;
			bool id = strcmp((const char *)a->name, "Id") == 0 ||
				  strcmp((const char *)a->name, "ID") == 0 || xml_id ||
				  (in_ns(n, NS_DS) && strcmp((const char *)a->name, "id") == 0);
			if (!id)
				continue;
			const xmlChar *v = a->children ? a->children->content : NULL;
			if (!v)
				continue;
			for (int i = 0; i < s->nids; i++)
				if (xmlStrEqual(s->ids[i], v))
					return refuse(s, "duplicate Id \"%.80s\"", (const char *)v);
			if (s->nids == MAX_IDS)
				return refuse(s, "too many Id attributes%s", "");
			s->ids[s->nids++] = v;
		}
		int rc = walk(s, n->children, depth + 1);
		if (rc != JOS_OK)
			return rc;
	}
	return JOS_OK;
}

/* The element children of n in order, with only white space between them; NULL-
 * terminated into kids[max+1]. Returns the count or -1 (text, or more than max). */
static int children(xmlNodePtr n, xmlNodePtr *kids, int max)
{
	int k = 0;
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE) {
			if (!blank(c->content))
				return -1;
			continue;
		}
		if (c->type != XML_ELEMENT_NODE || k == max)
			return -1;
		kids[k++] = c;
	}
	kids[k] = NULL;
	return k;
}

static bool alg_is(xmlNodePtr n, const char *alg)
{
	xmlChar *a = xmlGetNoNsProp(n, BAD_CAST "Algorithm");
	bool ok = a && strcmp((const char *)a, alg) == 0;
	xmlFree(a);
	return ok;
}

/* An algorithm element: the right Algorithm and no content (no HMACOutputLength, no
 * InclusiveNamespaces, ...). */
static bool alg_leaf(xmlNodePtr n, const char *name, const char *alg)
{
	xmlNodePtr k[2];
	return is_ds(n, name) && alg_is(n, alg) && children(n, k, 0) == 0;
}

static int check_signature(shape *s, xmlNodePtr sig)
{
	xmlNodePtr k[MAX_CERTS + 1], si[5], ref[5], tr[4];
	if (children(sig, k, 3) != 3 || !is_ds(k[0], "SignedInfo") || !is_ds(k[1], "SignatureValue") ||
	    !is_ds(k[2], "KeyInfo"))
		return refuse(s, "ds:Signature must hold exactly SignedInfo, SignatureValue and KeyInfo%s", "");
	xmlNodePtr keyinfo = k[2];
	int nsi = children(k[0], si, 4);
	if (nsi < 3 || !is_ds(si[0], "CanonicalizationMethod") || !is_ds(si[1], "SignatureMethod"))
		return refuse(s, "ds:SignedInfo is not CanonicalizationMethod, SignatureMethod, Reference%s", "");
	if (nsi != 3 || !is_ds(si[2], "Reference"))
		return refuse(s, "the signature must have exactly one Reference%s", "");
	if (!alg_leaf(si[0], "CanonicalizationMethod", ALG_EXC_C14N))
		return refuse(s, "the canonicalization must be exclusive C14N (%s)", ALG_EXC_C14N);
	if (!alg_leaf(si[1], "SignatureMethod", ALG_RSA_SHA256) &&
	    !alg_leaf(si[1], "SignatureMethod", ALG_ECDSA_SHA256)) {
		xmlChar *a = xmlGetNoNsProp(si[1], BAD_CAST "Algorithm");
		int rc = refuse(s, "signature algorithm %.100s is not allowed (only RSA-SHA256 and "
				   "ECDSA-SHA256)", a ? (const char *)a : "(none)");
		xmlFree(a);
		return rc;
	}
	xmlNodePtr r = si[2];
	xmlChar *uri = xmlGetNoNsProp(r, BAD_CAST "URI");
	bool empty = uri && uri[0] == '\0';
	xmlFree(uri);
	if (!empty)
		return refuse(s, "the Reference must have URI=\"\" (the whole document)%s", "");
	if (children(r, ref, 3) != 3 || !is_ds(ref[0], "Transforms") || !is_ds(ref[1], "DigestMethod") ||
	    !is_ds(ref[2], "DigestValue"))
		return refuse(s, "ds:Reference must hold exactly Transforms, DigestMethod and DigestValue%s", "");
	if (children(ref[0], tr, 3) != 2 || !alg_leaf(tr[0], "Transform", ALG_ENVELOPED) ||
	    !alg_leaf(tr[1], "Transform", ALG_EXC_C14N))
		return refuse(s, "the Reference's transforms must be exactly enveloped-signature and "
				 "exclusive C14N%s", "");
	if (!alg_leaf(ref[1], "DigestMethod", ALG_SHA256)) {
		xmlChar *a = xmlGetNoNsProp(ref[1], BAD_CAST "Algorithm");
		int rc = refuse(s, "digest algorithm %.100s is not allowed (only SHA-256)",
				a ? (const char *)a : "(none)");
		xmlFree(a);
		return rc;
	}
	if (children(keyinfo, k, 1) != 1 || !is_ds(k[0], "X509Data"))
		return refuse(s, "ds:KeyInfo must hold only X509Data (no KeyValue, KeyName or "
				 "RetrievalMethod)%s", "");
	int nc = children(k[0], k, MAX_CERTS);
	if (nc < 1)
		return refuse(s, "ds:X509Data must hold the signer's X509Certificate%s", "");
	for (int i = 0; i < nc; i++)
		if (!is_ds(k[i], "X509Certificate"))
			return refuse(s, "ds:X509Data may hold only X509Certificate elements%s", "");
	return JOS_OK;
}

int fmt_verify_shape(void *vdoc, char *why, size_t whylen)
{
	xmlDocPtr doc = vdoc;
	shape s = { .why = why, .whylen = whylen };
	for (xmlNodePtr n = doc->children; n; n = n->next)
		if (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE)
			return refuse(&s, "a comment or processing instruction is not allowed in a statement%s", "");
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!root || !in_ns(root, NS_STMT) || strcmp((const char *)root->name, "Statement") != 0)
		return refuse(&s, "the root element is not a Statement in namespace %s", NS_STMT);
	int rc = walk(&s, root, 0);
	if (rc != JOS_OK)
		return rc;
	if (s.nsig == 0)
		return refuse(&s, "the statement is not signed (no ds:Signature)%s", "");
	if (s.nsig > 1)
		return refuse(&s, "the statement has more than one ds:Signature%s", "");
	xmlNodePtr last = root->last;
	while (last && last->type == XML_TEXT_NODE && blank(last->content))
		last = last->prev;
	if (!is_ds(last, "Signature"))
		return refuse(&s, "the ds:Signature must be the last child of Statement (enveloped)%s", "");
	return check_signature(&s, last);
}

/* ---- stage 5: the certificate ------------------------------------------------------ */

static X509 *cert_from_b64(const xmlChar *text)
{
	size_t n = strlen((const char *)text);
	unsigned char *der = malloc(n + 4);
	EVP_ENCODE_CTX *ec = EVP_ENCODE_CTX_new();
	X509 *x = NULL;
	int l1 = 0, l2 = 0;
	if (der && ec && n < INT32_MAX) {
		EVP_DecodeInit(ec);
		if (EVP_DecodeUpdate(ec, der, &l1, text, (int)n) >= 0 && EVP_DecodeFinal(ec, der + l1, &l2) == 1) {
			const unsigned char *p = der;
			long dl = l1 + l2;
			x = d2i_X509(NULL, &p, dl);
			if (x && p != der + dl) { /* trailing bytes */
				X509_free(x);
				x = NULL;
			}
		}
	}
	EVP_ENCODE_CTX_free(ec);
	free(der);
	return x;
}

/* The X509Certificate elements of KeyInfo/X509Data (shape already checked). */
static int cert_nodes(xmlDocPtr doc, xmlNodePtr *k)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), sig = root->last;
	while (sig && sig->type != XML_ELEMENT_NODE)
		sig = sig->prev;
	xmlNodePtr ki = sig ? xmlSecFindChild(sig, BAD_CAST "KeyInfo", BAD_CAST NS_DS) : NULL;
	xmlNodePtr xd = ki ? xmlSecFindChild(ki, BAD_CAST "X509Data", BAD_CAST NS_DS) : NULL;
	return xd ? children(xd, k, MAX_CERTS) : -1;
}

/* Their texts joined by "|", malloc'd (the cache key). */
static char *cert_texts(xmlNodePtr *k, int nc)
{
	size_t len = 1;   /* the NUL */
	for (int i = 0; i < nc; i++) {
		len++;   /* its '|', also when the element has no text (memory ran out) */
		for (xmlNodePtr t = k[i]->children; t; t = t->next)
			if (t->content)
				len += strlen((const char *)t->content);
	}
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	for (int i = 0; i < nc; i++) {
		for (xmlNodePtr t = k[i]->children; t; t = t->next)
			if (t->content) {
				size_t n = strlen((const char *)t->content);
				memcpy(p, t->content, n);
				p += n;
			}
		*p++ = '|';
	}
	*p = '\0';
	return s;
}

static int read_certs(STACK_OF(X509) **out, xmlNodePtr *k, int nc, char *why, size_t whylen)
{
	STACK_OF(X509) *st = sk_X509_new_null();
	if (!st || nc < 1) {
		sk_X509_free(st);
		snprintf(why, whylen, "no certificate in KeyInfo");
		return JOS_EVERIFY;
	}
	for (int i = 0; i < nc; i++) {
		xmlChar *t = xmlNodeGetContent(k[i]);
		X509 *x = t ? cert_from_b64(t) : NULL;
		xmlFree(t);
		if (!x || !sk_X509_push(st, x)) {
			X509_free(x);
			sk_X509_pop_free(st, X509_free);
			ERR_clear_error();
			snprintf(why, whylen, "X509Certificate %d is not a valid certificate", i + 1);
			return JOS_EVERIFY;
		}
	}
	*out = st;
	return JOS_OK;
}

/* The signer's certificate: the one that issued none of the others. */
static X509 *leaf_of(STACK_OF(X509) *st)
{
	int n = sk_X509_num(st);
	for (int i = 0; i < n; i++) {
		X509 *c = sk_X509_value(st, i);
		bool issuer = false;
		for (int j = 0; j < n && !issuer; j++)
			if (j != i && X509_check_issued(c, sk_X509_value(st, j)) == X509_V_OK)
				issuer = true;
		if (!issuer)
			return c;
	}
	return NULL;
}

static int check_cert(fmt_verifier *v, X509 *leaf, STACK_OF(X509) *chain, time_t at, bool want_ec,
		      char *why, size_t whylen)
{
	char kwhy[200], day[16];
	bool ec = false;
	EVP_PKEY *pk = X509_get0_pubkey(leaf);
	if (!pk) {
		snprintf(why, whylen, "the signer's certificate has no usable public key");
		return JOS_EVERIFY;
	}
	if (fmt_key_check(pk, &ec, kwhy, sizeof kwhy) != JOS_OK) {
		snprintf(why, whylen, "signer's %s", kwhy);
		return JOS_EVERIFY;
	}
	if (ec != want_ec) {
		snprintf(why, whylen, "the signature method does not match the certificate's key type");
		return JOS_EVERIFY;
	}
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	if (!sc || X509_STORE_CTX_init(sc, v->store, leaf, chain) != 1) {
		X509_STORE_CTX_free(sc);
		snprintf(why, whylen, "out of memory");
		return JOS_ENOMEM;
	}
	/* A statement carries the date the finance team gave it (statement_date), and is
	 * often signed later, with a certificate issued after that date: the signature
	 * cannot predate its certificate. So the chain is checked at IssueDate, or at the
	 * signer certificate's notBefore when that is later; a certificate that had expired
	 * by the IssueDate still fails. Either way the clock is never read. */
	struct tm nb_tm;
	const ASN1_TIME *nb = X509_get0_notBefore(leaf);
	if (nb && ASN1_TIME_to_tm(nb, &nb_tm) == 1) {
		time_t nb_t = timegm(&nb_tm);
		if (nb_t > at)
			at = nb_t;
	}
	X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(sc);
	X509_VERIFY_PARAM_set_time(p, at);
	/* an anchor of --trust is trusted as given, also when it is not self-signed */
	X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_PARTIAL_CHAIN);
	int ok = X509_verify_cert(sc);
	int e = X509_STORE_CTX_get_error(sc);
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	if (ok == 1)
		return JOS_OK;
	jos_day_format(day, (jos_day)(at / 86400));
	snprintf(why, whylen, "the signer's certificate does not chain to the trusted certificates at "
			      "IssueDate %s: %s", day, X509_verify_cert_error_string(e));
	return JOS_EVERIFY;
}

/* The verified public key of the statement's signer, as an xmlsec key owned by the
 * verifier's cache (borrowed by the caller until the next call). */
static int signer_key(fmt_verifier *v, xmlDocPtr doc, time_t at, bool want_ec, xmlSecKeyPtr *out,
		      char *why, size_t whylen)
{
	xmlNodePtr k[MAX_CERTS + 1];
	STACK_OF(X509) *certs = NULL;
	int nc = cert_nodes(doc, k), rc;
	char *texts = nc > 0 ? cert_texts(k, nc) : NULL;
	*out = NULL;
	if (nc < 1 || !texts) {
		free(texts);
		snprintf(why, whylen, nc < 1 ? "no certificate in KeyInfo" : "out of memory");
		return nc < 1 ? JOS_EVERIFY : JOS_ENOMEM;
	}
	if (v->cache_key && v->cache_at == at && strcmp(v->cache_certs, texts) == 0) {
		free(texts);
		if (v->cache_ec != want_ec) {
			snprintf(why, whylen, "the signature method does not match the certificate's key type");
			return JOS_EVERIFY;
		}
		*out = v->cache_key;
		return JOS_OK;
	}
	if ((rc = read_certs(&certs, k, nc, why, whylen)) != JOS_OK)
		goto done;
	X509 *leaf = leaf_of(certs);
	if (!leaf) {
		snprintf(why, whylen, "cannot tell the signer's certificate among those in KeyInfo");
		rc = JOS_EVERIFY;
		goto done;
	}
	if ((rc = check_cert(v, leaf, certs, at, want_ec, why, whylen)) != JOS_OK)
		goto done;
	/* the key xmlsec is given is the one of the certificate just checked: xmlsec does
	 * not read KeyInfo at all then (traps 1 and 7 cannot arise) */
	EVP_PKEY *pk = X509_get_pubkey(leaf);
	xmlSecKeyDataPtr kd = pk ? xmlSecOpenSSLEvpKeyAdopt(pk) : NULL;
	xmlSecKeyPtr key = kd ? xmlSecKeyCreate() : NULL;
	if (!key || xmlSecKeySetValue(key, kd) < 0) {
		if (key)
			xmlSecKeyDestroy(key);
		if (kd)
			xmlSecKeyDataDestroy(kd);
		else
			EVP_PKEY_free(pk);
		snprintf(why, whylen, "cannot hand the signer's key to xmlsec");
		rc = JOS_ECRYPTO;
		goto done;
	}
	if (v->cache_key)
		xmlSecKeyDestroy(v->cache_key);
	free(v->cache_certs);
	v->cache_key = key;
	v->cache_certs = texts;
	texts = NULL;
	v->cache_at = at;
	v->cache_ec = want_ec;
	*out = key;
	rc = JOS_OK;
done:
	free(texts);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* ---- stage 6: the signature ------------------------------------------------------------ */

int fmt_verify_xmlsec(fmt_verifier *v, void *vdoc, time_t at, void *sign_key, char *why,
		      size_t whylen)
{
	xmlDocPtr doc = vdoc;
	int rc = JOS_EVERIFY;
	xmlNodePtr sig = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature, xmlSecDSigNs);
	if (!sig) {
		snprintf(why, whylen, "no ds:Signature");
		return JOS_EVERIFY;
	}
	if (verifier_mngr(v) != JOS_OK) {
		snprintf(why, whylen, "cannot set up the certificate store for xmlsec");
		return JOS_ECRYPTO;
	}
	xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(v->mngr);
	if (!ctx) {
		snprintf(why, whylen, "out of memory");
		return JOS_ENOMEM;
	}
	/* trap 1: the key may come from a verified X509 certificate only */
	if (xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (xmlSecPtr)xmlSecKeyDataX509Id) < 0)
		goto internal;
	ctx->keyInfoReadCtx.certsVerificationTime = at;
	/* trap 2: never dereference a URI that leaves the document */
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty | xmlSecTransformUriTypeSameDocument;
	/* trap 8: these lists gate c14n, signature and digest methods alike */
	if (xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha256Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformEcdsaSha256Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformSha256Id) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha256Id) < 0)
		goto internal;
	ctx->signKey = sign_key;  /* borrowed; NULL: from KeyInfo, as restricted above */
	fmt_xmlsec_clear_error();
	int r = xmlSecDSigCtxVerify(ctx, sig);
	/* trap 4: 0 is returned for a bad signature too; the verdict is in the status */
	if (r < 0) {
		snprintf(why, whylen, "the signature cannot be checked: %s",
			 fmt_xmlsec_last_error()[0] ? fmt_xmlsec_last_error() : "xmlsec error");
		goto done;
	}
	if (ctx->status != xmlSecDSigStatusSucceeded) {
		snprintf(why, whylen, "the signature does not match the document (it was changed after "
				      "signing, or signed by another key)");
		goto done;
	}
	if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) {
		snprintf(why, whylen, "the signature must have exactly one Reference");
		goto done;
	}
	xmlSecDSigReferenceCtxPtr ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
	if (!ref || ref->status != xmlSecDSigStatusSucceeded || !ref->uri || ref->uri[0] != '\0') {
		snprintf(why, whylen, "the Reference over the whole document does not verify");
		goto done;
	}
	if (!ctx->signKey || (sign_key && ctx->signKey != sign_key)) {
		snprintf(why, whylen, "the signature was not made with the key of the certificate in KeyInfo");
		goto done;
	}
	rc = JOS_OK;
	goto done;
internal:
	snprintf(why, whylen, "cannot configure the signature check");
	rc = JOS_ECRYPTO;
done:
	if (sign_key && ctx->signKey == sign_key)
		ctx->signKey = NULL;  /* the caller's */
	xmlSecDSigCtxDestroy(ctx);
	return rc;
}

/* ---- stage 6 without xmlSecDSigCtxVerify ------------------------------------------------
 * What xmlSecDSigCtxVerify does for the one shape stage 3 lets through (one Reference,
 * URI="", enveloped-signature + exclusive C14N, SHA-256; SignedInfo in exclusive C14N;
 * RSA- or ECDSA-SHA256; nothing else), with xmlsec's own digest and signature transforms
 * and its own base64 reading of DigestValue and SignatureValue, in xmlsec's order
 * (the Reference, then the SignatureValue). Only the node sets differ in how they are
 * evaluated: xmlsec hands libxml2's C14N its xmlSecNodeSetContains, which tests every
 * node, attribute and namespace against XPath node sets and their ancestors (the
 * larger part of a big statement's verification time); the callbacks below give the
 * same answers directly. tests/formats/verify.c runs both ways over the attack battery
 * and requires the same verdicts; JOS_VERIFY_XMLSEC=1 selects xmlsec's way. */

typedef struct {
	xmlDocPtr doc;
	xmlNodePtr node;   /* the ds:Signature (enveloped) or the ds:SignedInfo */
} c14n_set;

/* One of the document's children (the set xmlSecNodeSetGetChildren(doc, NULL, ...) holds). */
static bool doc_child(xmlDocPtr doc, xmlNodePtr n)
{
	for (xmlNodePtr c = doc->children; c; c = c->next)
		if (c == n)
			return true;
	return false;
}

/* For URI="" and the enveloped-signature transform xmlsec builds
 *   xmlSecNodeSetGetChildren(doc, NULL, 0, 0)      (tree of the document, no comments)
 *   ∩ xmlSecNodeSetGetChildren(doc, signature, 1, 1)  (all but the Signature's tree)
 * and xmlSecNodeSetContains(set, node, parent) tests, for each, the node and then its
 * parent chain (parent, parent->parent, ... while an element). The same, directly: */
static int visible_enveloped(void *data, xmlNodePtr node, xmlNodePtr parent)
{
	const c14n_set *cs = data;
	int in_doc = 0;
	for (xmlNodePtr n = node, p = parent;;) {
		if (n->type == XML_COMMENT_NODE)
			break;
		if (n->type != XML_NAMESPACE_DECL && doc_child(cs->doc, n)) {
			in_doc = 1;
			break;
		}
		if (!p || p->type != XML_ELEMENT_NODE)
			break;
		n = p;
		p = p->parent;
	}
	if (!in_doc)
		return 0;
	for (xmlNodePtr n = node, p = parent;;) {
		if (n->type != XML_NAMESPACE_DECL && n == cs->node)
			return 0;
		if (!p || p->type != XML_ELEMENT_NODE)
			return 1;
		n = p;
		p = p->parent;
	}
}

/* For SignedInfo xmlsec builds xmlSecNodeSetGetChildren(doc, signedinfo, 1, 0): the
 * tree of SignedInfo, comments included (C14N without comments drops them). */
static int visible_subtree(void *data, xmlNodePtr node, xmlNodePtr parent)
{
	const c14n_set *cs = data;
	for (xmlNodePtr n = node, p = parent;;) {
		if (n->type != XML_NAMESPACE_DECL && n == cs->node)
			return 1;
		if (!p || p->type != XML_ELEMENT_NODE)
			return 0;
		n = p;
		p = p->parent;
	}
}

/* Exclusive C14N (no comments, no inclusive prefixes) of the nodes visible says, into
 * transform t, as xmlsec's C14N transform feeds the next one; closing the buffer
 * pushes the final block. <0 when it fails. */
static int c14n_into(xmlSecTransformCtxPtr tctx, xmlSecTransformPtr t, xmlDocPtr doc,
		     xmlC14NIsVisibleCallback visible, c14n_set *cs)
{
	xmlOutputBufferPtr buf = xmlSecTransformCreateOutputBuffer(t, tctx);
	if (!buf)
		return -1;
	int r = xmlC14NExecute(doc, visible, cs, XML_C14N_EXCLUSIVE_1_0, NULL, 0, buf);
	int c = xmlOutputBufferClose(buf);
	return r < 0 || c < 0 || t->status != xmlSecTransformStatusFinished ? -1 : 0;
}

/* ---- the canonical form of the statement without its Signature, written directly ------
 * For the layout our writer produces, and nothing else: one root in our namespace with
 * that one declaration (xmlns="urn:jos-settle:statement:1") and no other anywhere
 * outside the Signature; every element in it through that very declaration; attributes
 * without a namespace, holding text only; nothing but elements and text; and within the
 * Signature only its own xmlns:ds. For such a tree exclusive C14N (what libxml2 gives
 * with the node set above) is: the root's start tag with that declaration, every start
 * tag's attributes sorted by name (xmlC14NAttrsCompare for attributes without a
 * namespace), text and attribute values escaped as xmlC11NNormalizeString does, and
 * no other namespace declaration (the default one is already rendered by an output
 * ancestor). Anything else: NOT_SIMPLE, and libxml2's C14N does the work.
 * tests/formats/verify.c compares the bytes with xmlC14NExecute over xmlsec's own node
 * set on hostile layouts and escapes. */

#define NOT_SIMPLE 1
#define MAX_ATTRS 16

typedef struct {
	char *p;
	size_t n, cap;
	xmlNsPtr ns;           /* the one namespace of every element written */
	const char *decl;      /* its declaration, written into the top start tag */
	xmlNodePtr sig;        /* the Signature, skipped (NULL: none) */
	bool oom;
} c14n_buf;

static void put(c14n_buf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->cap - b->n < len) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->n < len)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
}

static void puts_(c14n_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* xmlC11NNormalizeString's escapes (fmt_xml_escape): text & < > CR; attribute values
 * & < " TAB LF CR. */
static void put_escaped(c14n_buf *b, const xmlChar *s, bool attr)
{
	const xmlChar *run = s;
	for (; *s; s++) {
		const char *rep = fmt_xml_escape((char)*s, attr, true);
		if (rep) {
			put(b, (const char *)run, (size_t)(s - run));
			puts_(b, rep);
			run = s + 1;
		}
	}
	put(b, (const char *)run, (size_t)(s - run));
}

/* Within the Signature (not output): only its own xmlns:ds declaration. */
static int sig_simple(xmlNodePtr n, bool top, int depth)
{
	if (depth > MAX_DEPTH)
		return NOT_SIMPLE;
	if (n->type != XML_ELEMENT_NODE)
		return JOS_OK;
	if (top ? !n->nsDef || n->nsDef->next || !n->nsDef->prefix ||
			  strcmp((const char *)n->nsDef->prefix, "ds") != 0 || !n->nsDef->href ||
			  strcmp((const char *)n->nsDef->href, NS_DS) != 0
		: n->nsDef != NULL)
		return NOT_SIMPLE;
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (sig_simple(c, false, depth + 1) != JOS_OK)
			return NOT_SIMPLE;
	return JOS_OK;
}

static void put_name(c14n_buf *b, xmlNodePtr e)
{
	if (b->ns->prefix) {
		puts_(b, (const char *)b->ns->prefix);
		put(b, ":", 1);
	}
	puts_(b, (const char *)e->name);
}

/* e and its subtree; the top (depth 0) may carry the declaration of b->ns, nothing
 * below it any. */
static int c14n_element(c14n_buf *b, xmlNodePtr e, int depth)
{
	xmlAttrPtr attrs[MAX_ATTRS];
	int na = 0;
	if (depth > MAX_DEPTH || e->ns != b->ns || (e->nsDef && (depth > 0 || e->nsDef != b->ns)))
		return NOT_SIMPLE;
	for (xmlAttrPtr a = e->properties; a; a = a->next) {
		if (a->type != XML_ATTRIBUTE_NODE || a->ns || na == MAX_ATTRS)
			return NOT_SIMPLE;
		for (xmlNodePtr t = a->children; t; t = t->next)
			if (t->type != XML_TEXT_NODE)
				return NOT_SIMPLE;
		int i = na++;
		for (; i > 0 && strcmp((const char *)attrs[i - 1]->name, (const char *)a->name) > 0; i--)
			attrs[i] = attrs[i - 1];
		attrs[i] = a;
	}
	put(b, "<", 1);
	put_name(b, e);
	if (depth == 0)
		puts_(b, b->decl);
	for (int i = 0; i < na; i++) {
		put(b, " ", 1);
		puts_(b, (const char *)attrs[i]->name);
		put(b, "=\"", 2);
		for (xmlNodePtr t = attrs[i]->children; t; t = t->next)
			if (t->content)
				put_escaped(b, t->content, true);
		put(b, "\"", 1);
	}
	put(b, ">", 1);
	for (xmlNodePtr c = e->children; c; c = c->next) {
		if (c == b->sig) {
			if (sig_simple(c, true, depth + 1) != JOS_OK)
				return NOT_SIMPLE;
		} else if (c->type == XML_TEXT_NODE) {
			if (c->content)
				put_escaped(b, c->content, false);
		} else if (c->type != XML_ELEMENT_NODE || c14n_element(b, c, depth + 1) != JOS_OK) {
			return NOT_SIMPLE;
		}
	}
	put(b, "</", 2);
	put_name(b, e);
	put(b, ">", 1);
	return JOS_OK;
}

static int c14n_finish(c14n_buf *b, int rc, char **out, size_t *outlen)
{
	if (rc == JOS_OK && b->oom)
		rc = JOS_ENOMEM;
	if (rc != JOS_OK) {
		free(b->p);
		return rc;
	}
	*out = b->p;
	*outlen = b->n;
	return JOS_OK;
}

/* The canonical bytes of SignedInfo (xmlsec's node set: its tree) into *out: JOS_OK,
 * NOT_SIMPLE or JOS_ENOMEM. The Signature declares xmlns:ds and nothing else does
 * (sig_simple), so SignedInfo, the first output element using ds, renders it. */
static int c14n_signedinfo_direct(xmlNodePtr sig, xmlNodePtr si, char **out, size_t *outlen)
{
	c14n_buf b = { .decl = " xmlns:ds=\"" NS_DS "\"" };
	*out = NULL;
	*outlen = 0;
	if (!sig || !si || si->parent != sig || sig_simple(sig, true, 0) != JOS_OK)
		return NOT_SIMPLE;
	b.ns = sig->nsDef;
	return c14n_finish(&b, c14n_element(&b, si, 0), out, outlen);
}

/* The canonical bytes of doc without sig into *out (malloc'd): JOS_OK, NOT_SIMPLE (not
 * the layout above: nothing written) or JOS_ENOMEM. */
static int c14n_enveloped_direct(xmlDocPtr doc, xmlNodePtr sig, char **out, size_t *outlen)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	c14n_buf b = { .sig = sig, .decl = " xmlns=\"" NS_STMT "\"" };
	*out = NULL;
	*outlen = 0;
	if (!root || doc->children != root || root->next || !sig || sig->parent != root ||
	    !root->nsDef || root->nsDef->next || root->nsDef->prefix || !root->nsDef->href ||
	    strcmp((const char *)root->nsDef->href, NS_STMT) != 0)
		return NOT_SIMPLE;
	b.ns = root->nsDef;
	return c14n_finish(&b, c14n_element(&b, root, 0), out, outlen);
}

int fmt_verify_c14n(void *vdoc, int how, char **out, size_t *outlen)
{
	xmlDocPtr doc = vdoc;
	xmlNodePtr root = xmlDocGetRootElement(doc), sig = root ? root->last : NULL;
	while (sig && sig->type != XML_ELEMENT_NODE)
		sig = sig->prev;
	xmlNodePtr si = sig ? xmlSecFindChild(sig, BAD_CAST "SignedInfo", BAD_CAST NS_DS) : NULL;
	if (how == 0)
		return c14n_enveloped_direct(doc, sig, out, outlen);
	if (how == 2)
		return c14n_signedinfo_direct(sig, si, out, outlen);
	c14n_set cs = { doc, how == 1 ? sig : si };
	xmlOutputBufferPtr buf = xmlAllocOutputBuffer(NULL);
	if (!buf)
		return JOS_ENOMEM;
	int r = xmlC14NExecute(doc, how == 1 ? visible_enveloped : visible_subtree, &cs,
			       XML_C14N_EXCLUSIVE_1_0, NULL, 0, buf);
	if (r < 0) {
		xmlOutputBufferClose(buf);
		return JOS_ECRYPTO;
	}
	size_t len = xmlOutputBufferGetSize(buf);
	*out = malloc(len + 1);
	if (*out)
		memcpy(*out, xmlOutputBufferGetContent(buf), len);
	*outlen = len;
	xmlOutputBufferClose(buf);
	return *out ? JOS_OK : JOS_ENOMEM;
}

/* The canonical bytes (freed here) into transform t as its whole, final input. */
static int push_final(xmlSecTransformCtxPtr tctx, xmlSecTransformPtr t, char **canon, size_t len)
{
	int r = xmlSecTransformPushBin(t, (const xmlSecByte *)*canon, (xmlSecSize)len, 1, tctx);
	free(*canon);
	*canon = NULL;
	return r < 0 || t->status != xmlSecTransformStatusFinished ? -1 : 0;
}

static int cannot_check(char *why, size_t whylen)
{
	snprintf(why, whylen, "the signature cannot be checked: %s",
		 fmt_xmlsec_last_error()[0] ? fmt_xmlsec_last_error() : "xmlsec error");
	return JOS_EVERIFY;
}

/* One stage's check: the canonical bytes (made directly when direct is JOS_OK, else by
 * C14N of the nodes visible says) into transform t, then t's result against the text of
 * node `value`. JOS_OK when they match; else JOS_EVERIFY or JOS_ENOMEM with why filled. */
static int check_stage(xmlSecTransformCtxPtr tctx, xmlSecTransformPtr t, xmlNodePtr value,
		       int direct, char **canon, size_t clen, xmlDocPtr doc,
		       xmlC14NIsVisibleCallback visible, c14n_set *cs, char *why, size_t whylen)
{
	if (direct == JOS_ENOMEM) {
		snprintf(why, whylen, "out of memory");
		return JOS_ENOMEM;
	}
	int pushed = direct == JOS_OK ? push_final(tctx, t, canon, clen)
				      : c14n_into(tctx, t, doc, visible, cs);
	if (pushed < 0 || xmlSecTransformVerifyNodeContent(t, value, tctx) < 0)
		return cannot_check(why, whylen);
	if (t->status != xmlSecTransformStatusOk) {
		snprintf(why, whylen, "the signature does not match the document (it was changed after "
				      "signing, or signed by another key)");
		return JOS_EVERIFY;
	}
	return JOS_OK;
}

int fmt_verify_fast(void *vdoc, void *vkey, bool ec, char *why, size_t whylen)
{
	xmlDocPtr doc = vdoc;
	xmlSecKeyPtr key = vkey;
	xmlSecTransformCtx tctx;
	xmlSecKeyReq req;
	int rc = JOS_EVERIFY;
	/* the nodes stage 3 proved present: the last element child of the root */
	xmlNodePtr root = xmlDocGetRootElement(doc), sig = root ? root->last : NULL;
	while (sig && sig->type != XML_ELEMENT_NODE)
		sig = sig->prev;
	xmlNodePtr si = sig ? xmlSecFindChild(sig, BAD_CAST "SignedInfo", BAD_CAST NS_DS) : NULL;
	xmlNodePtr sv = sig ? xmlSecFindChild(sig, BAD_CAST "SignatureValue", BAD_CAST NS_DS) : NULL;
	xmlNodePtr ref = si ? xmlSecFindChild(si, BAD_CAST "Reference", BAD_CAST NS_DS) : NULL;
	xmlNodePtr dv = ref ? xmlSecFindChild(ref, BAD_CAST "DigestValue", BAD_CAST NS_DS) : NULL;
	if (!is_ds(sig, "Signature") || !sv || !dv || !key) {
		snprintf(why, whylen, "no ds:Signature");
		return JOS_EVERIFY;
	}
	fmt_xmlsec_clear_error();
	/* the Reference: C14N of the document without the Signature, SHA-256, DigestValue */
	if (xmlSecTransformCtxInitialize(&tctx) < 0) {
		snprintf(why, whylen, "out of memory");
		return JOS_ENOMEM;
	}
	c14n_set cs = { doc, sig };
	xmlSecTransformPtr dg = xmlSecTransformCtxCreateAndAppend(&tctx, xmlSecTransformSha256Id);
	if (!dg) {
		rc = cannot_check(why, whylen);
		goto done;
	}
	dg->operation = xmlSecTransformOperationVerify;
	char *canon = NULL;
	size_t clen = 0;
	int direct = c14n_enveloped_direct(doc, sig, &canon, &clen);   /* sets clen: first */
	rc = check_stage(&tctx, dg, dv, direct, &canon, clen, doc, visible_enveloped, &cs, why,
			 whylen);
	if (rc != JOS_OK)
		goto done;
	xmlSecTransformCtxFinalize(&tctx);
	/* the signature: C14N of SignedInfo, checked against SignatureValue with the key */
	if (xmlSecTransformCtxInitialize(&tctx) < 0) {
		snprintf(why, whylen, "out of memory");
		return JOS_ENOMEM;
	}
	cs.node = si;
	xmlSecTransformPtr sm = xmlSecTransformCtxCreateAndAppend(
		&tctx, ec ? xmlSecTransformEcdsaSha256Id : xmlSecTransformRsaSha256Id);
	if (!sm || xmlSecKeyReqInitialize(&req) < 0) {
		rc = cannot_check(why, whylen);
		goto done;
	}
	sm->operation = xmlSecTransformOperationVerify;
	/* as xmlsec: the key must meet the signature method's requirements */
	int kr = xmlSecTransformSetKeyReq(sm, &req) < 0 || xmlSecKeyMatch(key, NULL, &req) != 1 ||
		 xmlSecTransformSetKey(sm, key) < 0;
	xmlSecKeyReqFinalize(&req);
	if (kr) {
		rc = cannot_check(why, whylen);
		goto done;
	}
	direct = c14n_signedinfo_direct(sig, si, &canon, &clen);
	rc = check_stage(&tctx, sm, sv, direct, &canon, clen, doc, visible_subtree, &cs, why, whylen);
done:
	xmlSecTransformCtxFinalize(&tctx);
	return rc;
}

/* ---- stage 7: arithmetic ------------------------------------------------------------ */

static int check_sums(const fmt_stmt *st, char *why, size_t whylen)
{
	jos_cents amount = 0, gross = 0;
	char a[JOS_FMT_BUF], b[JOS_FMT_BUF];
	for (size_t i = 0; i < st->nlines; i++) {
		if (jos_add64(&amount, amount, st->lines[i].amount) ||
		    jos_add64(&gross, gross, st->lines[i].gross)) {
			snprintf(why, whylen, "the line amounts overflow");
			return JOS_EVERIFY;
		}
		if (st->lines[i].amount < 0 || st->lines[i].gross < 0) {
			snprintf(why, whylen, "school %s: a negative amount", st->lines[i].school);
			return JOS_EVERIFY;
		}
	}
	if (amount != st->net) {
		snprintf(why, whylen, "the line Amounts sum to %s but Net is %s", jos_cents_format(a, amount),
			 jos_cents_format(b, st->net));
		return JOS_EVERIFY;
	}
	if (gross != st->gross) {
		snprintf(why, whylen, "the line GrossShares sum to %s but Gross is %s",
			 jos_cents_format(a, gross), jos_cents_format(b, st->gross));
		return JOS_EVERIFY;
	}
	if (st->status == JOS_STATUS_BELOW_THRESHOLD && st->net != 0) {
		snprintf(why, whylen, "Status is below_threshold but Net is %s, not 0.00",
			 jos_cents_format(a, st->net));
		return JOS_EVERIFY;
	}
	if (st->net > st->gross) {
		snprintf(why, whylen, "Net %s exceeds Gross %s", jos_cents_format(a, st->net),
			 jos_cents_format(b, st->gross));
		return JOS_EVERIFY;
	}
	if (st->status == JOS_STATUS_CAPPED && (!st->key.has_cap || st->net != st->key.cap)) {
		snprintf(why, whylen, "Status is capped but Net is not the key's cap");
		return JOS_EVERIFY;
	}
	if (st->key.has_cap && st->net > st->key.cap) {
		snprintf(why, whylen, "Net %s exceeds the key's cap %s", jos_cents_format(a, st->net),
			 jos_cents_format(b, st->key.cap));
		return JOS_EVERIFY;
	}
	return JOS_OK;
}

/* ---- the whole ------------------------------------------------------------------------- */

int fmt_verify_buffer(fmt_stmt *out_stmt, fmt_verifier *v, const char *buf, size_t len,
		      jos_err *err)
{
	char why[sizeof err->msg] = "";
	xmlDocPtr doc = NULL;
	fmt_stmt st;
	bool have_st = false;
	int rc;
	if (out_stmt) {
		memset(out_stmt, 0, sizeof *out_stmt);
		out_stmt->payment_days = -1;
	}
	if ((rc = safe_parse(&doc, buf, len, why, sizeof why)) != JOS_OK)
		goto done;
	if ((rc = fmt_verify_shape(doc, why, sizeof why)) != JOS_OK)
		goto done;
	if ((rc = fmt_schema_validate(v->schema, doc, err)) != JOS_OK) {
		snprintf(why, sizeof why, "%s", err->msg);
		rc = rc == JOS_EINVALID ? JOS_EVERIFY : rc;
		goto done;
	}
	if ((rc = fmt_stmt_from_xml(&st, doc, err)) != JOS_OK) {
		snprintf(why, sizeof why, "%s", err->msg);
		rc = rc == JOS_EINVALID ? JOS_EVERIFY : rc;
		goto done;
	}
	have_st = true;
	time_t at = fmt_verify_time(st.issue_date);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr sig = root->last;
	while (sig->type != XML_ELEMENT_NODE)
		sig = sig->prev;
	xmlNodePtr si = xmlSecFindChild(sig, BAD_CAST "SignedInfo", BAD_CAST NS_DS);
	xmlNodePtr sm = xmlSecFindChild(si, BAD_CAST "SignatureMethod", BAD_CAST NS_DS);
	xmlSecKeyPtr key = NULL;
	if ((rc = signer_key(v, doc, at, alg_is(sm, ALG_ECDSA_SHA256), &key, why, sizeof why)) != JOS_OK)
		goto done;
	rc = v->use_xmlsec ? fmt_verify_xmlsec(v, doc, at, key, why, sizeof why)
			   : fmt_verify_fast(doc, key, alg_is(sm, ALG_ECDSA_SHA256), why, sizeof why);
	if (rc != JOS_OK)
		goto done;
	if ((rc = check_sums(&st, why, sizeof why)) != JOS_OK)
		goto done;
	if (out_stmt) {
		*out_stmt = st;
		have_st = false;
	}
	rc = JOS_OK;
done:
	if (have_st)
		fmt_stmt_free(&st);
	xmlFreeDoc(doc);
	ERR_clear_error();
	if (rc != JOS_OK) {
		jos_err_clear(err);
		jos_err_set(err, rc, "", 0, "%s", why);
	}
	return rc;
}
