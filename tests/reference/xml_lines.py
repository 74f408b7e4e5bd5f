#!/usr/bin/env python3
"""xml_lines.py: prints the lines of signed statements as the CSV that
`settle.py DATA_DIR --lines` prints (municipality_code,school_id,gross_share,amount),
so that tests can compare jos-settle's statements with the reference computation.
Usage: xml_lines.py STATEMENT.xml...
"""
import sys
import xml.etree.ElementTree as ET

NS = "{urn:jos-settle:statement:1}"


def main():
    rows = []
    for path in sys.argv[1:]:
        root = ET.parse(path).getroot()
        code = root.find(NS + "Header/" + NS + "Recipient").get("code")
        for line in root.iter(NS + "Line"):
            rows.append((code, line.get("school"), line.find(NS + "GrossShare").text.strip(),
                         line.find(NS + "Amount").text.strip()))
    print("municipality_code,school_id,gross_share,amount")
    for r in sorted(rows):
        print(",".join(r))


if __name__ == "__main__":
    main()
