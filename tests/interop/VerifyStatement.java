/*
 * VerifyStatement.java: an independent verifier for tests/interop.sh, using only the
 * JDK's javax.xml.crypto.dsig with secure validation.
 *   java VerifyStatement CA.pem STATEMENT.xml   -> prints OK and exits 0, or FAILED: why, 1
 * The key is taken from KeyInfo/X509Data only after its certificate chains (PKIX) to
 * CA.pem at 12:00 UTC of the statement's IssueDate; DOCTYPEs are refused; the one
 * Reference must be URI="" (the whole document).
 */
import java.io.FileInputStream;
import java.io.InputStream;
import java.security.Key;
import java.security.PublicKey;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.xml.XMLConstants;
import javax.xml.crypto.AlgorithmMethod;
import javax.xml.crypto.KeySelector;
import javax.xml.crypto.KeySelectorException;
import javax.xml.crypto.KeySelectorResult;
import javax.xml.crypto.XMLCryptoContext;
import javax.xml.crypto.XMLStructure;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.crypto.dsig.keyinfo.KeyInfo;
import javax.xml.crypto.dsig.keyinfo.X509Data;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public class VerifyStatement {
    static final String NS = "urn:jos-settle:statement:1";

    static final class ChainSelector extends KeySelector {
        final Set<TrustAnchor> anchors;
        final Date at;
        ChainSelector(Set<TrustAnchor> anchors, Date at) { this.anchors = anchors; this.at = at; }

        @Override
        public KeySelectorResult select(KeyInfo ki, KeySelector.Purpose purpose, AlgorithmMethod method,
                                        XMLCryptoContext ctx) throws KeySelectorException {
            if (ki == null) throw new KeySelectorException("no KeyInfo");
            List<X509Certificate> certs = new ArrayList<>();
            for (Object o : ki.getContent()) {
                if (!(o instanceof X509Data)) throw new KeySelectorException("KeyInfo holds more than X509Data");
                for (Object c : ((X509Data) o).getContent())
                    if (c instanceof X509Certificate) certs.add((X509Certificate) c);
            }
            if (certs.isEmpty()) throw new KeySelectorException("no certificate");
            try {
                CertificateFactory cf = CertificateFactory.getInstance("X.509");
                CertPath path = cf.generateCertPath(certs);
                PKIXParameters p = new PKIXParameters(anchors);
                p.setRevocationEnabled(false);
                p.setDate(at);
                CertPathValidator.getInstance("PKIX").validate(path, p);
            } catch (Exception e) {
                throw new KeySelectorException("certificate does not chain to the CA: " + e.getMessage());
            }
            final PublicKey pk = certs.get(0).getPublicKey();
            String alg = method.getAlgorithm();
            boolean rsa = pk.getAlgorithm().equals("RSA") && alg.endsWith("#rsa-sha256");
            boolean ec = pk.getAlgorithm().equals("EC") && alg.endsWith("#ecdsa-sha256");
            if (!rsa && !ec) throw new KeySelectorException("algorithm " + alg + " not allowed for " + pk.getAlgorithm());
            return new KeySelectorResult() { public Key getKey() { return pk; } };
        }
    }

    public static void main(String[] args) throws Exception {
        Set<TrustAnchor> anchors = new HashSet<>();
        try (InputStream in = new FileInputStream(args[0])) {
            Collection<? extends java.security.cert.Certificate> cs =
                CertificateFactory.getInstance("X.509").generateCertificates(in);
            for (java.security.cert.Certificate c : cs) anchors.add(new TrustAnchor((X509Certificate) c, null));
        }
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        dbf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        dbf.setExpandEntityReferences(false);
        dbf.setXIncludeAware(false);
        Document doc;
        try (InputStream in = new FileInputStream(args[1])) { doc = dbf.newDocumentBuilder().parse(in); }
        Element root = doc.getDocumentElement();
        if (!NS.equals(root.getNamespaceURI()) || !"Statement".equals(root.getLocalName())) {
            System.out.println("FAILED: root is not a Statement"); System.exit(1);
        }
        String issue = doc.getElementsByTagNameNS(NS, "IssueDate").item(0).getTextContent();
        Date at = Date.from(LocalDate.parse(issue).atTime(12, 0).toInstant(ZoneOffset.UTC));
        NodeList sigs = doc.getElementsByTagNameNS(XMLSignature.XMLNS, "Signature");
        if (sigs.getLength() != 1 || sigs.item(0).getParentNode() != root) {
            System.out.println("FAILED: not exactly one Signature under Statement"); System.exit(1);
        }
        DOMValidateContext ctx = new DOMValidateContext(new ChainSelector(anchors, at), sigs.item(0));
        ctx.setProperty("org.jcp.xml.dsig.secureValidation", Boolean.TRUE);
        XMLSignatureFactory fac = XMLSignatureFactory.getInstance("DOM");
        XMLSignature sig = fac.unmarshalXMLSignature(ctx);
        List<?> refs = sig.getSignedInfo().getReferences();
        if (refs.size() != 1 || !"".equals(((Reference) refs.get(0)).getURI())) {
            System.out.println("FAILED: the signature must have one Reference with URI=\"\""); System.exit(1);
        }
        boolean ok;
        try { ok = sig.validate(ctx); }
        catch (Exception e) { System.out.println("FAILED: " + e.getMessage()); System.exit(1); return; }
        if (!ok) {
            System.out.println("FAILED: signature " + sig.getSignatureValue().validate(ctx) + ", reference "
                               + ((Reference) refs.get(0)).validate(ctx));
            System.exit(1);
        }
        System.out.println("OK");
    }
}
