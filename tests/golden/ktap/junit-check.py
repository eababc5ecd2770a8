#!/usr/bin/env python3
"""junit-check.py FILE: does FILE parse as XML (python's own parser, as CI
tools use) and hold what Jenkins' and GitLab's JUnit readers expect?

<testsuites> holding <testsuite name tests failures errors skipped time>
elements whose counts are those of their <testcase classname name time>
children (each with at most one <failure message> or <skipped>), and
totals that add up. Prints "suites=N tests=N failures=N skipped=N" and
exits 0, or prints what is wrong and exits 1.
"""
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("junit-check: " + msg)
    sys.exit(1)


def number(el, attr, kind=int):
    v = el.get(attr)
    if v is None:
        fail("<%s name=%r> has no %s" % (el.tag, el.get("name"), attr))
    try:
        n = kind(v)
    except ValueError:
        fail("<%s> %s=%r is not a number" % (el.tag, attr, v))
    if n < 0:
        fail("<%s> %s=%r is negative" % (el.tag, attr, v))
    return n


def case(tc):
    for a in ("classname", "name"):
        if not tc.get(a):
            fail("a testcase without %s" % a)
    number(tc, "time", float)
    kids = [c.tag for c in tc]
    if len(kids) > 1 or (kids and kids[0] not in ("failure", "skipped")):
        fail("testcase %r holds %s" % (tc.get("name"), kids))
    if kids == ["failure"] and tc[0].get("message") is None:
        fail("failure of %r without message" % tc.get("name"))
    return kids[0] if kids else "pass"


def suite(ts):
    if not ts.get("name"):
        fail("a testsuite without name")
    got = {"tests": 0, "failures": 0, "skipped": 0}
    for tc in ts:
        if tc.tag != "testcase":
            fail("testsuite %r holds <%s>" % (ts.get("name"), tc.tag))
        kind = case(tc)
        got["tests"] += 1
        got["failures"] += kind == "failure"
        got["skipped"] += kind == "skipped"
    for a, v in got.items():
        if number(ts, a) != v:
            fail("testsuite %r: %s=%s, holds %d" % (ts.get("name"), a,
                 ts.get(a), v))
    number(ts, "errors")
    number(ts, "time", float)
    return got


def main():
    root = ET.parse(sys.argv[1]).getroot()
    if root.tag != "testsuites":
        fail("root element is <%s>" % root.tag)
    total = {"tests": 0, "failures": 0, "skipped": 0}
    n = 0
    for ts in root:
        if ts.tag != "testsuite":
            fail("testsuites holds <%s>" % ts.tag)
        for a, v in suite(ts).items():
            total[a] += v
        n += 1
    for a, v in total.items():
        if number(root, a) != v:
            fail("testsuites: %s=%s, suites hold %d" % (a, root.get(a), v))
    print("suites=%d tests=%d failures=%d skipped=%d" % (n, total["tests"],
          total["failures"], total["skipped"]))


if __name__ == "__main__":
    try:
        main()
    except ET.ParseError as e:
        fail("not well-formed: %s" % e)
